// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/decisiongrid.h"

#include <algorithm>

#include <QComboBox>
#include <QDir>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QSplitter>
#include <QVBoxLayout>

#include "core/engine/explainer.h"
#include "ui/analysis/decisionstore.h"
#include "ui/analysis/imagepreview.h"
#include "ui/analysis/sampledetails.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"

namespace Winnow {

namespace {

constexpr int kKeepItem = 0;
constexpr int kDeleteItem = 1;
constexpr int kFirstClassItem = 2;

} // namespace

void refreshDecisionRows(ImageGridModel* model, const QStringList& relPaths)
{
    // The model asks the store lazily (decision provider). Per-row updates keep a keypress O(1) on huge grids: a
    // whole-model dataChanged makes every filtering proxy re-check every row. An empty text drops no stored text
    // (none is stored) and just announces the row.
    if (relPaths.isEmpty() || relPaths.size() > 2000) {
        model->refreshDecisions();
        return;
    }
    for (const QString& p : relPaths)
        model->setDecision(p, QString());
}

DecisionGrid::DecisionGrid(Mode mode, ImageGridProxy* proxy, QWidget* parent)
    : QWidget(parent)
    , m_mode(mode)
    , m_model(new ImageGridModel(this))
    , m_proxy(proxy ? proxy : new ImageGridProxy(this))
    , m_view(new ImageGridView(this))
{
    m_proxy->setParent(this);
    m_proxy->setSourceModel(m_model);
    m_model->setDecisionProvider(
        [this](const QString& relPath) { return m_store ? m_store->decisionText(relPath) : QString(); });
    m_view->setModel(m_proxy);
    m_view->setObjectName(QStringLiteral("decisionGridView"));
    m_view->installEventFilter(this);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
        // Right click on an unselected card acts on that card alone.
        const QModelIndex idx = m_view->indexAt(pos);
        if (idx.isValid() && !m_view->selectionModel()->isSelected(idx))
            m_view->selectionModel()->setCurrentIndex(idx, QItemSelectionModel::ClearAndSelect);
        showMenuAt(m_view->viewport()->mapToGlobal(pos));
    });
    connect(m_view, &ImageGridView::currentSampleChanged, this, &DecisionGrid::onCurrentSampleChanged);
    connect(m_view, &ImageGridView::decisionRequested, this, [this](const QString& what, const QList<int>& samples) {
        // Keys the view handles itself (Delete); K / D / R are intercepted before it sees them.
        if (what == QLatin1String("Delete"))
            afterKeyDecision(applyDecision(samples, CleanAction::Delete, {}), int(samples.size()));
        else if (what == QLatin1String("Keep"))
            afterKeyDecision(applyDecision(samples, CleanAction::Keep, {}), int(samples.size()));
    });
    // Double click shows the image large (in both modes: accepting a suggestion takes a deliberate Enter).
    connect(m_view, &QAbstractItemView::doubleClicked, this, [this](const QModelIndex& index) {
        if (index.isValid())
            openPreview();
    });

    // Side panel.
    m_panel = new QWidget(this);
    m_panel->setObjectName(QStringLiteral("decisionPanel"));
    auto* panelLayout = new QVBoxLayout(m_panel);
    panelLayout->setContentsMargins(8, 4, 4, 4);
    m_details = new QLabel(m_panel);
    m_details->setObjectName(QStringLiteral("detailsLabel"));
    m_details->setWordWrap(true);
    m_details->setTextFormat(Qt::RichText);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_combo = new QComboBox(m_panel);
    m_combo->setObjectName(QStringLiteral("decisionCombo"));
    m_combo->setToolTip(tr("What to do with the current image (or the selection)"));
    connect(m_combo, &QComboBox::activated, this, &DecisionGrid::onComboActivated);
    auto* form = new QFormLayout;
    form->addRow(tr("Decision:"), m_combo);
    m_keys = new QLabel(m_panel);
    m_keys->setWordWrap(true);
    m_keys->setTextFormat(Qt::RichText);
    QPalette dim = m_keys->palette();
    dim.setColor(QPalette::WindowText, dim.color(QPalette::PlaceholderText));
    m_keys->setPalette(dim);
    m_status = new QLabel(m_panel);
    m_status->setObjectName(QStringLiteral("statusLabel"));
    m_status->setWordWrap(true);
    panelLayout->addWidget(m_details);
    panelLayout->addLayout(form);
    panelLayout->addWidget(m_status);
    panelLayout->addStretch(1);
    panelLayout->addWidget(m_keys);
    m_panel->setMinimumWidth(220);
    m_panel->setMaximumWidth(360);

    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(m_view);
    splitter->addWidget(m_panel);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 0);
    splitter->setChildrenCollapsible(false);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);

    setFocusProxy(m_view);
    rebuildCombo();
    updatePanel();
}

DecisionGrid::~DecisionGrid()
{
    // The model's decision provider reads m_store through `this`; make it inert before children go.
    m_model->setDecisionProvider({});
}

void DecisionGrid::setStore(DecisionStore* store)
{
    for (const auto& c : std::as_const(m_storeConnections))
        disconnect(c);
    m_storeConnections.clear();
    m_store = store;
    if (store) {
        m_storeConnections << connect(store, &DecisionStore::decisionsChanged, this, &DecisionGrid::onDecisionsChanged)
                           << connect(store, &DecisionStore::classesChanged, this, [this] {
                                  rebuildCombo();
                                  updatePanel();
                              });
    }
    m_model->refreshDecisions();
    rebuildCombo();
    updatePanel();
}

DecisionStore* DecisionGrid::store() const
{
    return m_store;
}

void DecisionGrid::setExplainer(Explainer* explainer)
{
    if (m_explainer)
        disconnect(m_explainer, &Explainer::ready, this, nullptr); // one connection, to the current explainer
    m_explainer = explainer;
    m_model->setExplainer(explainer);
    if (explainer)
        connect(explainer, &Explainer::ready, this, [this](const QString& path, const QString&) {
            if (m_preview && m_preview->isVisible() && m_preview->sample() >= 0
                && m_model->dataset().absolutePath(m_model->dataset().samples.at(m_preview->sample())) == path)
                m_preview->showSample(m_preview->sample());
        });
}

void DecisionGrid::cycleEvidenceMode()
{
    setStatus(m_model->cycleEvidenceMode());
    if (m_preview && m_preview->isVisible())
        m_preview->showSample(m_preview->sample());
}

void DecisionGrid::setThumbnailLoader(ThumbnailLoader* loader)
{
    m_model->setThumbnailLoader(loader);
}

void DecisionGrid::setDataset(const Dataset& dataset)
{
    m_model->setDataset(dataset);
    updatePanel();
}

void DecisionGrid::setScores(const ScoreSet& scores)
{
    m_model->setScores(scores);
    updatePanel();
}

void DecisionGrid::setPlaceholderText(const QString& text)
{
    m_view->setPlaceholderText(text);
}

void DecisionGrid::addPanelWidget(QWidget* widget)
{
    widget->setParent(m_panel);
    static_cast<QVBoxLayout*>(m_panel->layout())->insertWidget(0, widget);
}

QList<int> DecisionGrid::targetSamples() const
{
    QList<int> samples = m_view->selectedSampleIndices();
    if (samples.isEmpty()) {
        const int current = m_view->currentSampleIndex();
        if (current >= 0)
            samples << current;
    }
    return samples;
}

QStringList DecisionGrid::relPaths(const QList<int>& samples) const
{
    QStringList paths;
    const Dataset& ds = m_model->dataset();
    for (int s : samples)
        if (s >= 0 && s < ds.samples.size())
            paths << ds.samples.at(s).relPath;
    return paths;
}

int DecisionGrid::currentSample() const
{
    return m_view->currentSampleIndex();
}

bool DecisionGrid::selectSample(int sampleIndex)
{
    return m_view->selectSample(sampleIndex);
}

int DecisionGrid::currentRow() const
{
    const QModelIndex idx = m_view->currentIndex();
    return idx.isValid() ? idx.row() : -1;
}

bool DecisionGrid::applyDecision(const QList<int>& samples, CleanAction action, const QString& toClass)
{
    if (!m_store) {
        setStatus(tr("No dataset is open."));
        return false;
    }
    const QStringList paths = relPaths(samples);
    if (paths.isEmpty())
        return false;
    QString error;
    if (!m_store->decide(paths, action, toClass, &error)) {
        setStatus(error);
        return false;
    }
    setStatus({});
    return true;
}

bool DecisionGrid::decide(CleanAction action, const QString& toClass)
{
    return applyDecision(targetSamples(), action, toClass);
}

bool DecisionGrid::decideClass(int index)
{
    const QStringList classes = m_store ? m_store->classes() : QStringList();
    if (index < 0 || index >= classes.size()) {
        setStatus(tr("There is no class %1.").arg(index + 1));
        return false;
    }
    return decide(CleanAction::Relabel, classes.at(index));
}

bool DecisionGrid::acceptSuggestion()
{
    if (!m_store)
        return false;
    QList<DecisionStore::Change> changes;
    for (int s : targetSamples()) {
        const QString cls = suggestedClass(s);
        if (!cls.isEmpty())
            changes.append({ m_model->dataset().samples.at(s).relPath, CleanAction::Relabel, cls });
    }
    if (changes.isEmpty()) {
        setStatus(tr("No suggestion for this image (it has no score yet)."));
        return false;
    }
    QString error;
    const QString text = changes.size() == 1
        ? tr("Label %1 as %2").arg(changes.first().relPath.section(QLatin1Char('/'), -1), changes.first().toClass)
        : tr("Accept %n suggestion(s)", nullptr, int(changes.size()));
    if (!m_store->decideMany(changes, text, &error)) {
        setStatus(error);
        return false;
    }
    setStatus({});
    return true;
}

bool DecisionGrid::advance()
{
    const int row = currentRow();
    const int next = row + 1;
    if (next >= m_proxy->rowCount())
        return false;
    const QModelIndex idx = m_proxy->index(next, 0);
    m_view->selectionModel()->setCurrentIndex(idx, QItemSelectionModel::ClearAndSelect);
    m_view->scrollTo(idx);
    return true;
}

bool DecisionGrid::retreat()
{
    const int row = currentRow();
    if (row <= 0)
        return false;
    const QModelIndex idx = m_proxy->index(row - 1, 0);
    m_view->selectionModel()->setCurrentIndex(idx, QItemSelectionModel::ClearAndSelect);
    m_view->scrollTo(idx);
    return true;
}

ImagePreview* DecisionGrid::preview() const
{
    return m_preview;
}

void DecisionGrid::openPreview()
{
    if (currentSample() < 0) {
        if (m_proxy->rowCount() == 0)
            return;
        m_view->selectionModel()->setCurrentIndex(m_proxy->index(0, 0), QItemSelectionModel::ClearAndSelect);
    }
    // The preview decides for the image it shows, not for a selection the user can no longer see.
    const QModelIndex current = m_view->currentIndex();
    m_view->selectionModel()->select(current, QItemSelectionModel::ClearAndSelect);
    if (!m_preview)
        m_preview = new ImagePreview(this);
    m_preview->showSample(currentSample());
    m_preview->show();
    m_preview->raise();
    m_preview->activateWindow();
}

void DecisionGrid::afterKeyDecision(bool ok, int targetCount)
{
    if (ok && m_advance && targetCount == 1)
        advance();
}

QString DecisionGrid::suggestedClass(int sampleIndex) const
{
    const ScoreRecord* rec = m_model->scoreForSample(sampleIndex);
    if (!rec || rec->predicted < 0)
        return {};
    return m_model->scores().vocab.value(rec->predicted);
}

double DecisionGrid::suggestedProbability(int sampleIndex) const
{
    const ScoreRecord* rec = m_model->scoreForSample(sampleIndex);
    return rec ? rec->pPredicted : 0.0;
}

bool DecisionGrid::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == m_view && (event->type() == QEvent::KeyPress || event->type() == QEvent::ShortcutOverride)) {
        auto* key = static_cast<QKeyEvent*>(event);
        const Qt::KeyboardModifiers mods = key->modifiers() & ~Qt::KeypadModifier;
        if (mods == Qt::NoModifier || mods == Qt::ShiftModifier) {
            if (event->type() == QEvent::ShortcutOverride) {
                // Claim our keys before any window-level shortcut bound to the same plain key.
                switch (key->key()) {
                case Qt::Key_Space:
                case Qt::Key_K:
                case Qt::Key_D:
                case Qt::Key_R:
                case Qt::Key_S:
                case Qt::Key_Backspace:
                case Qt::Key_1:
                case Qt::Key_2:
                case Qt::Key_3:
                case Qt::Key_4:
                case Qt::Key_5:
                case Qt::Key_6:
                case Qt::Key_7:
                case Qt::Key_8:
                case Qt::Key_9:
                    if (mods == Qt::NoModifier) {
                        event->accept();
                        return true;
                    }
                    break;
                default:
                    break;
                }
                return false;
            }
            if (mods == Qt::NoModifier && handleDecisionKey(key->key()))
                return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

bool DecisionGrid::handleDecisionKey(int key)
{
    if (key >= Qt::Key_1 && key <= Qt::Key_9) {
        const int n = int(targetSamples().size());
        afterKeyDecision(decideClass(key - Qt::Key_1), n);
        return true;
    }
    switch (key) {
    case Qt::Key_K: {
        const int n = int(targetSamples().size());
        afterKeyDecision(decide(CleanAction::Keep), n);
        return true;
    }
    case Qt::Key_D:
    case Qt::Key_Delete: {
        const int n = int(targetSamples().size());
        afterKeyDecision(decide(CleanAction::Delete), n);
        return true;
    }
    case Qt::Key_Space:
        openPreview();
        return true;
    case Qt::Key_G:
        cycleEvidenceMode();
        return true;
    case Qt::Key_Backspace:
        if (m_store) { // clears the decision and the Kept mark, stays on the image
            QString error;
            if (!m_store->clearDecisions(relPaths(targetSamples()), &error))
                setStatus(error);
        }
        return true;
    case Qt::Key_R: {
        const QModelIndex idx = m_view->currentIndex();
        const QRect r = idx.isValid() ? m_view->visualRect(idx) : QRect();
        showMenuAt(m_view->viewport()->mapToGlobal(r.isValid() ? r.center() : QPoint(10, 10)));
        return true;
    }
    case Qt::Key_Return:
    case Qt::Key_Enter:
        if (m_mode != Mode::Label) {
            openPreview();
            return true;
        }
        {
            const int n = int(targetSamples().size());
            afterKeyDecision(acceptSuggestion(), n);
        }
        return true;
    case Qt::Key_S:
        if (m_mode != Mode::Label)
            return false;
        advance();
        return true;
    default:
        return false;
    }
}

QMenu* DecisionGrid::createDecisionMenu(QWidget* parent)
{
    auto* menu = new QMenu(parent);
    const QList<int> samples = targetSamples();
    const QStringList paths = relPaths(samples);
    // Check the common decision of the targets, if they share one.
    QString common;
    bool first = true;
    for (const QString& p : paths) {
        QString d;
        if (m_store) {
            const CleanAction a = m_store->action(p);
            d = a == CleanAction::Delete    ? QStringLiteral("<Delete>")
                : a == CleanAction::Relabel ? m_store->targetClass(p)
                                            : QStringLiteral("<Keep>");
        }
        if (first)
            common = d;
        else if (d != common)
            common.clear();
        first = false;
    }
    const bool enabled = m_store && !paths.isEmpty();
    const auto add = [&](const QString& text, const QString& id, const QString& shortcut, auto&& fn) {
        QAction* a = menu->addAction(shortcut.isEmpty() ? text : text + QLatin1Char('\t') + shortcut);
        a->setData(id);
        a->setCheckable(true);
        a->setChecked(!common.isEmpty() && common == id);
        a->setEnabled(enabled);
        connect(a, &QAction::triggered, this, fn);
        return a;
    };
    if (m_mode == Mode::Label && samples.size() >= 1) {
        const QString sug = suggestedClass(samples.first());
        if (!sug.isEmpty()) {
            QAction* a = menu->addAction(tr("Accept suggestion: %1\tEnter").arg(sug));
            a->setData(QStringLiteral("<Accept>"));
            a->setEnabled(enabled);
            connect(a, &QAction::triggered, this, [this] { acceptSuggestion(); });
            menu->addSeparator();
        }
    }
    add(QStringLiteral("<Keep>"), QStringLiteral("<Keep>"), QStringLiteral("K"), [this] { decide(CleanAction::Keep); });
    add(QStringLiteral("<Delete>"), QStringLiteral("<Delete>"), QStringLiteral("D"),
        [this] { decide(CleanAction::Delete); });
    menu->addSeparator();
    const QStringList classes = m_store ? m_store->classes() : QStringList();
    // The class every target already has is no move: shown, but not offered.
    QString ownClass;
    const Dataset& ds = m_model->dataset();
    for (int s : samples) {
        const int label = s >= 0 && s < ds.samples.size() ? ds.samples.at(s).label : -1;
        const QString cls = label >= 0 ? ds.vocab.value(label) : QString();
        if (s == samples.first())
            ownClass = cls;
        else if (cls != ownClass)
            ownClass.clear();
    }
    for (int i = 0; i < classes.size(); ++i) {
        const QString& cls = classes.at(i);
        QAction* a = add(
            cls, cls, i < 9 ? QString::number(i + 1) : QString(), [this, cls] { decide(CleanAction::Relabel, cls); });
        if (!ownClass.isEmpty() && cls == ownClass) {
            a->setText(tr("%1 (its class)").arg(cls) + (i < 9 ? QStringLiteral("\t%1").arg(i + 1) : QString()));
            a->setEnabled(false);
        }
    }
    menu->addSeparator();
    QAction* newClass = menu->addAction(tr("New class..."));
    newClass->setData(QStringLiteral("<New>"));
    newClass->setEnabled(m_store != nullptr);
    connect(newClass, &QAction::triggered, this, [this] { promptNewClass(true); });
    if (!paths.isEmpty() && !m_model->dataset().root.isEmpty()) {
        menu->addSeparator();
        ImageGridView::addFileActions(menu, QDir(m_model->dataset().root).filePath(paths.first()));
    }
    return menu;
}

void DecisionGrid::showMenuAt(const QPoint& globalPos)
{
    QMenu* menu = createDecisionMenu(this);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    menu->popup(globalPos);
}

void DecisionGrid::promptNewClass(bool relabelTargets)
{
    if (!m_store) {
        setStatus(tr("Open a dataset first: a class is a folder in it."));
        return;
    }
    bool ok = false;
    const QString name = QInputDialog::getText(
        this, tr("New class"), tr("Name of the new class (a folder is created for it):"), QLineEdit::Normal, {}, &ok);
    if (!ok || name.trimmed().isEmpty())
        return;
    QString error;
    if (!m_store->createClass(name, &error)) {
        setStatus(tr("Cannot create class '%1': %2").arg(name.trimmed(), error));
        return;
    }
    setStatus(tr("Class '%1' created.").arg(name.trimmed()));
    // Acting on the targets straight away is what the user almost always wants.
    if (relabelTargets && !targetSamples().isEmpty())
        decide(CleanAction::Relabel, name.trimmed());
}

void DecisionGrid::setStatus(const QString& message)
{
    m_status->setText(message);
    if (!message.isEmpty())
        Q_EMIT statusMessage(message);
}

void DecisionGrid::onCurrentSampleChanged(int sampleIndex)
{
    updatePanel();
    Q_EMIT currentSampleChanged(sampleIndex);
}

void DecisionGrid::onDecisionsChanged(const QStringList& relPaths)
{
    refreshDecisionRows(m_model, relPaths);
    const int current = currentSample();
    if (relPaths.isEmpty() || (current >= 0 && relPaths.contains(m_model->dataset().samples.value(current).relPath)))
        updatePanel();
}

void DecisionGrid::rebuildCombo()
{
    m_combo->blockSignals(true);
    m_combo->clear();
    m_combo->addItem(QStringLiteral("<Keep>"));
    m_combo->addItem(QStringLiteral("<Delete>"));
    const QStringList classes = m_store ? m_store->classes() : QStringList();
    for (int i = 0; i < classes.size(); ++i)
        m_combo->addItem(
            i < 9 ? QStringLiteral("%1  (%2)").arg(classes.at(i)).arg(i + 1) : classes.at(i), classes.at(i));
    m_combo->blockSignals(false);

    QString keys = tr("<b>Keys</b>: arrows move, <b>K</b> keep, <b>D</b> delete, <b>1</b>–<b>9</b> move to class, "
                      "<b>Backspace</b> clear, <b>R</b> menu, <b>Space</b> large preview, <b>G</b> evidence maps");
    if (m_mode == Mode::Label)
        keys += tr(", <b>Enter</b> accept suggestion, <b>S</b> skip");
    keys += tr(", <b>Ctrl+Z</b> undo.");
    QStringList numbered;
    for (int i = 0; i < std::min<qsizetype>(9, classes.size()); ++i)
        numbered << QStringLiteral("%1&nbsp;%2").arg(i + 1).arg(classes.at(i).toHtmlEscaped());
    if (!numbered.isEmpty())
        keys += QStringLiteral("<br>") + numbered.join(QStringLiteral(" · "));
    m_keys->setText(keys);
}

void DecisionGrid::onComboActivated(int index)
{
    if (index == kKeepItem)
        decide(CleanAction::Keep);
    else if (index == kDeleteItem)
        decide(CleanAction::Delete);
    else if (index >= kFirstClassItem)
        decide(CleanAction::Relabel, m_combo->itemData(index).toString());
    updatePanel();
    m_view->setFocus(Qt::OtherFocusReason); // back to the grid: the next key decides for the next image
}

QString DecisionGrid::detailsHtml(int s) const
{
    return SampleDetails::html(m_model->dataset(), s, m_model->scoreForSample(s), m_model->scores().vocab,
        m_mode == Mode::Label ? SampleDetails::View::Label : SampleDetails::View::Review);
}

void DecisionGrid::updatePanel()
{
    const int s = currentSample();
    const Dataset& ds = m_model->dataset();
    const bool valid = s >= 0 && s < ds.samples.size();
    m_combo->setEnabled(valid && m_store);
    if (m_preview && m_preview->isVisible()) {
        if (m_preview->sample() != s || (valid && m_preview->relPath() != ds.samples.at(s).relPath))
            m_preview->showSample(valid ? s : -1);
        else
            m_preview->refreshDetails();
    }
    if (!valid) {
        m_details->setText(tr("<i>No image selected.</i>"));
        m_combo->setCurrentIndex(kKeepItem);
        return;
    }
    const Sample& sample = ds.samples.at(s);
    m_details->setText(detailsHtml(s));

    int item = kKeepItem;
    if (m_store) {
        const CleanAction a = m_store->action(sample.relPath);
        if (a == CleanAction::Delete)
            item = kDeleteItem;
        else if (a == CleanAction::Relabel) {
            const int i = m_combo->findData(m_store->targetClass(sample.relPath));
            item = i >= 0 ? i : kKeepItem;
        }
    }
    m_combo->setCurrentIndex(item);
}

} // namespace Winnow
