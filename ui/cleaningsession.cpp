// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/cleaningsession.h"

#include <algorithm>

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QMessageBox>
#include <QSettings>
#include <QStyle>
#include <QTimer>
#include <QtConcurrent>

#include "core/dataset/dataset.h"
#include "core/engine/trainingcontroller.h"
#include "core/util/layout.h"
#include "ui/analysis/decisionstore.h"
#include "ui/datasetdocument.h"
#include "ui/training/trainingpanel.h"

namespace Winnow {

namespace {

constexpr auto kRetrainKey = "cleaning/retrainAfterApply";

QString opName(int op)
{
    switch (op) {
    case 0:
        return QObject::tr("Apply");
    case 1:
        return QObject::tr("Undo");
    case 2:
        return QObject::tr("Redo");
    default:
        return QObject::tr("Rename");
    }
}

} // namespace

CleaningSession::CleaningSession(DatasetDocument* document, TrainingPanel* panel, QWidget* dialogParent)
    : QObject(dialogParent ? static_cast<QObject*>(dialogParent) : document)
    , m_document(document)
    , m_panel(panel)
    , m_dialogParent(dialogParent)
    , m_saveTimer(new QTimer(this))
{
    const QStyle* style = QApplication::style();
    m_apply = new QAction(style->standardIcon(QStyle::SP_DialogApplyButton), tr("&Apply Decisions…"), this);
    m_apply->setObjectName(QStringLiteral("applyDecisionsAction"));
    m_apply->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Return));
    m_apply->setToolTip(tr("Move deleted files to the dataset's trash and relabelled files to their new class folder "
                           "(one undoable step)"));
    connect(m_apply, &QAction::triggered, this, &CleaningSession::apply);

    m_undo = new QAction(style->standardIcon(QStyle::SP_ArrowBack), tr("&Undo Last Apply"), this);
    m_undo->setObjectName(QStringLiteral("undoApplyAction"));
    m_undo->setShortcut(QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_Z));
    m_undo->setToolTip(tr("Put every file of the last applied cleaning back where it was"));
    connect(m_undo, &QAction::triggered, this, &CleaningSession::undoLastApply);

    m_redo = new QAction(style->standardIcon(QStyle::SP_ArrowForward), tr("&Redo Apply"), this);
    m_redo->setObjectName(QStringLiteral("redoApplyAction"));
    m_redo->setShortcut(QKeySequence(Qt::CTRL | Qt::ALT | Qt::SHIFT | Qt::Key_Z));
    connect(m_redo, &QAction::triggered, this, &CleaningSession::redoApply);

    m_retrainAfter = new QAction(tr("Retrain &After Applying"), this);
    m_retrainAfter->setObjectName(QStringLiteral("retrainAfterApplyAction"));
    m_retrainAfter->setCheckable(true);
    m_retrainAfter->setChecked(QSettings().value(QLatin1String(kRetrainKey), true).toBool());
    m_retrainAfter->setToolTip(tr("After each apply, undo or redo, retrain on the new labels and re-score every "
                                  "image: a full fine-tune when one takes under a minute (or on a GPU), else the "
                                  "fine-tuned network's last layer, refitted in about a second"));
    connect(
        m_retrainAfter, &QAction::toggled, this, [](bool on) { QSettings().setValue(QLatin1String(kRetrainKey), on); });

    m_saveTimer->setSingleShot(true);
    m_saveTimer->setInterval(400);
    connect(m_saveTimer, &QTimer::timeout, this, &CleaningSession::savePending);

    if (m_document) {
        connect(m_document->decisions(), &DecisionStore::decisionsChanged, this, [this] {
            scheduleSave();
            updateActions();
        });
        // Another folder is about to replace the decisions on the pages: write this folder's first.
        connect(m_document, &DatasetDocument::scanStarted, this, [this] {
            if (m_saveTimer->isActive())
                savePending();
        });
        connect(m_document, &DatasetDocument::datasetOpened, this, &CleaningSession::onDatasetOpened);
        if (const Dataset* ds = m_document->dataset())
            onDatasetOpened(*ds);
    }
    if (m_panel)
        connect(m_panel, &TrainingPanel::busyChanged, this, &CleaningSession::updateActions);
    updateActions();
}

CleaningSession::~CleaningSession()
{
    if (m_saveTimer->isActive())
        savePending();
}

QString CleaningSession::pendingPlanPath(const QString& root)
{
    return WinnowDir::pendingPlanFile(QDir::cleanPath(root));
}

QWidget* CleaningSession::dialogParent() const
{
    return m_dialogParent;
}

const CleaningPlan& CleaningSession::plan() const
{
    static const CleaningPlan none;
    return m_document ? m_document->decisions()->plan() : none;
}

void CleaningSession::setPlan(const CleaningPlan& plan)
{
    if (m_document)
        m_document->decisions()->setPlan(plan);
}

void CleaningSession::scheduleSave()
{
    if (!m_loadingPlan && !m_root.isEmpty())
        m_saveTimer->start();
}

void CleaningSession::savePending()
{
    m_saveTimer->stop();
    if (!m_document || m_root.isEmpty())
        return;
    const CleaningPlan& plan = this->plan();
    // Only this folder's own decisions are written (or removed) here. While another folder opens, the pages already
    // hold that folder's (empty) plan: writing it here would delete this folder's decisions.
    if (plan.root().isEmpty() || QDir::cleanPath(plan.root()) != m_root)
        return;
    const QString path = pendingPlanPath(m_root);
    if (plan.isEmpty()) {
        QFile::remove(path);
        return;
    }
    QDir().mkpath(QFileInfo(path).absolutePath());
    QString error;
    if (!plan.save(path, &error))
        Q_EMIT statusMessage(tr("Your decisions could not be saved beside the dataset: %1").arg(error), 8000);
}

void CleaningSession::onDatasetOpened(const Dataset& dataset)
{
    const QString root = QDir::cleanPath(dataset.root);
    if (root != m_root) {
        if (m_saveTimer->isActive())
            savePending(); // the previous dataset's decisions
        m_root = root;
        m_retrainPending = false;
        m_scorePending = false;
        const QString path = pendingPlanPath(root);
        if (m_document && QFileInfo::exists(path)) {
            QString error;
            if (auto plan = CleaningPlan::load(path, &error)) {
                // Keyed to the folder as opened now (it may have been moved or reached by another path).
                plan->setRoot(dataset.root);
                plan->setLayout(dataset.layout);
                m_loadingPlan = true;
                setPlan(*plan);
                m_loadingPlan = false;
                if (!plan->isEmpty())
                    Q_EMIT statusMessage(
                        tr("Restored %n pending decision(s) (%1).", nullptr, plan->size()).arg(plan->summary().text()),
                        8000);
            } else {
                Q_EMIT statusMessage(tr("Ignored unreadable pending decisions: %1").arg(error), 8000);
            }
        }
    }
    m_history = Cleaning::status(root);
    if (m_retrainPending) {
        m_retrainPending = false;
        if (m_panel && m_panel->hasModel())
            m_panel->retrain();
    } else if (std::exchange(m_scorePending, false) && m_panel && m_panel->hasModel() && m_document
        && m_document->controller()) {
        // No retrain: the current model still scores the files that came back or moved (from its caches, honestly:
        // by content, never by a network that trained on them), so none drops out of the grids.
        m_document->controller()->score(dataset);
    }
    updateActions();
}

bool CleaningSession::trainingRunning() const
{
    return (m_document && m_document->controller() && m_document->controller()->isBusy())
        || (m_panel && m_panel->isBusy());
}

void CleaningSession::updateActions()
{
    const PlanSummary summary = plan().summary();
    // Why an action cannot run now (empty: it can). Files must not move under a training job that reads them.
    QString blocked;
    if (m_root.isEmpty())
        blocked = tr("Open a dataset first");
    else if (m_busy)
        blocked = tr("Wait: files are being moved");
    else if (trainingRunning())
        blocked = tr("Wait for the training job to finish (or cancel it on the Train page): it reads these files");
    const auto set = [&](QAction* a, bool possible, const QString& why, const QString& normal) {
        const QString reason = !blocked.isEmpty() ? blocked : (possible ? QString() : why);
        a->setEnabled(reason.isEmpty());
        a->setToolTip(reason.isEmpty() ? normal : reason);
    };
    set(m_apply, summary.total() > 0,
        tr("No decisions to apply: mark images Delete (D) or move them to a class (1–9) first"),
        tr("Move %1: deleted files to the dataset's trash, relabelled files to their new class folder (one undoable "
           "step)")
            .arg(summary.text()));
    m_apply->setText(summary.total() == 1 ? tr("&Apply 1 Decision…")
            : summary.total() > 0         ? tr("&Apply %1 Decisions…").arg(summary.total())
                                          : tr("&Apply Decisions…"));
    set(m_undo, !m_history.undoTarget.isEmpty(), tr("Nothing to undo: no applied cleaning of this dataset"),
        tr("Put every file of the last applied cleaning back where it was"));
    set(m_redo, !m_history.redoTarget.isEmpty(), tr("Nothing to redo"), tr("Apply the last undone cleaning again"));
}

QString CleaningSession::planDetails(const CleaningPlan& plan)
{
    QStringList lines;
    for (const CleanDecision& d : plan.decisions()) {
        if (d.action == CleanAction::Delete)
            lines << tr("delete  %1").arg(d.file);
        else if (d.action == CleanAction::Relabel)
            lines << tr("move    %1  →  %2")
                         .arg(d.file,
                             plan.relabelDestination(d.file, d.toClass).section(QLatin1Char('/'), 0, -2)
                                 + QLatin1Char('/'));
    }
    return lines.join(QLatin1Char('\n'));
}

int CleaningSession::keepPendingOnQuit()
{
    savePending();
    const int n = !m_root.isEmpty() ? plan().size() : 0;
    if (n == 0)
        return n;
    const QString where = QDir::toNativeSeparators(pendingPlanPath(m_root));
    Q_EMIT statusMessage(
        tr("%n pending decision(s) kept in %1: they come back with the folder.", nullptr, n).arg(where), 0);
    if (!m_confirm || QSettings().value(QStringLiteral("cleaning/quietQuit"), false).toBool())
        return n;
    QMessageBox box(QMessageBox::Information, tr("Decisions Kept"),
        tr("%n pending decision(s) for \"%1\" kept.", nullptr, n).arg(QFileInfo(m_root).fileName()), QMessageBox::Ok,
        dialogParent());
    box.setObjectName(QStringLiteral("keptOnQuitBox"));
    box.setInformativeText(tr("Nothing was moved. They are saved in %1 and come back when you open this folder "
                              "again; Clean ▸ Apply carries them out.")
                               .arg(where));
    auto* quiet = new QCheckBox(tr("Do not tell me again"), &box);
    box.setCheckBox(quiet);
    box.exec();
    if (quiet->isChecked())
        QSettings().setValue(QStringLiteral("cleaning/quietQuit"), true);
    return n;
}

void CleaningSession::apply()
{
    if (m_busy || !m_document || m_root.isEmpty())
        return;
    if (trainingRunning()) {
        Q_EMIT statusMessage(m_apply->toolTip(), 5000);
        return;
    }
    const CleaningPlan& plan = this->plan();
    const PlanSummary summary = plan.summary();
    if (summary.total() == 0) {
        Q_EMIT statusMessage(tr("Nothing to apply: mark images Delete or relabel them first."), 5000);
        return;
    }
    if (m_confirm) {
        QMessageBox box(QMessageBox::Question, tr("Apply Decisions"),
            tr("Apply %n decision(s) to the files of \"%1\"?", nullptr, summary.total())
                .arg(QFileInfo(m_root).fileName()),
            QMessageBox::NoButton, dialogParent());
        QStringList what;
        if (summary.deletes > 0)
            what << tr("%n file(s) to the dataset's trash (.winnow/trash)", nullptr, summary.deletes);
        if (summary.relabels > 0)
            what << tr("%n file(s) to the folder of their new class", nullptr, summary.relabels);
        if (summary.labels > 0)
            what << tr("%n unlabeled file(s) into a class folder", nullptr, summary.labels);
        box.setInformativeText(
            tr("Moves %1. A name that is taken there gets a free one. Nothing is lost: Clean ▸ "
               "Undo Last Apply (%2) puts everything back. Show Details lists every file.")
                .arg(what.join(QStringLiteral("; ")), m_undo->shortcut().toString(QKeySequence::NativeText)));
        box.setDetailedText(planDetails(plan));
        auto* retrain = new QCheckBox(tr("Retrain afterwards"), &box);
        retrain->setChecked(m_retrainAfter->isChecked());
        box.setCheckBox(retrain);
        box.addButton(tr("&Apply"), QMessageBox::AcceptRole);
        box.addButton(QMessageBox::Cancel);
        box.setDefaultButton(QMessageBox::Cancel);
        if (box.exec() != 0) // AcceptRole buttons return 0 from exec(): the button's index
            return;
        m_retrainAfter->setChecked(retrain->isChecked());
    }
    savePending();
    run(Op::Apply);
}

void CleaningSession::undoLastApply()
{
    if (!m_busy && !m_root.isEmpty() && !trainingRunning())
        run(Op::Undo);
}

void CleaningSession::redoApply()
{
    if (!m_busy && !m_root.isEmpty() && !trainingRunning())
        run(Op::Redo);
}

void CleaningSession::renameOddNames()
{
    const Dataset* ds = m_document ? m_document->dataset() : nullptr;
    if (m_busy || !ds || trainingRunning())
        return;
    QList<Cleaning::FileRename> renames;
    QStringList lines;
    for (const Sample& s : ds->samples) {
        if (!s.oddName || !s.readable())
            continue;
        QFile f(ds->absolutePath(s));
        const ContentSniff sniff = f.open(QIODevice::ReadOnly) ? sniffContent(f.read(kSniffBytes)) : ContentSniff {};
        const QString name = s.relPath.section(QLatin1Char('/'), -1);
        const QString proper = properImageName(name, sniff.format);
        if (!sniff.isImage() || proper == name)
            continue;
        renames.append({ s.relPath, proper });
        lines << QStringLiteral("%1  ->  %2").arg(s.relPath, proper);
    }
    if (renames.isEmpty())
        return;
    if (m_confirm) {
        QMessageBox box(QMessageBox::Question, tr("Rename Files"),
            tr("Rename %n image(s) of \"%1\" to end in their format's extension?", nullptr, int(renames.size()))
                .arg(QFileInfo(ds->root).fileName()),
            QMessageBox::NoButton, dialogParent());
        box.setInformativeText(tr("Web downloads often keep the address's tail in the name (00000090.jpg?1518390504). "
                                  "Each file stays in its folder and keeps its split; a name that is taken gets a "
                                  "free one. Clean ▸ Undo Last Apply (%1) puts the old names back.")
                                   .arg(m_undo->shortcut().toString(QKeySequence::NativeText)));
        box.setDetailedText(lines.join(QLatin1Char('\n')));
        box.addButton(tr("&Rename"), QMessageBox::AcceptRole);
        box.addButton(QMessageBox::Cancel);
        box.setDefaultButton(QMessageBox::Cancel);
        if (box.exec() != 0)
            return;
    }
    run(Op::Rename, renames);
}

void CleaningSession::run(Op op, const QList<Cleaning::FileRename>& renames)
{
    m_busy = true;
    updateActions();
    Q_EMIT statusMessage(tr("%1: moving files…").arg(opName(int(op))), 0);
    const QString root = m_root;
    const CleaningPlan plan = this->plan();
    const Dataset* ds = m_document ? m_document->dataset() : nullptr;
    ApplyOptions options; // moved files keep the split the window shows
    if (ds && QDir::cleanPath(ds->root) == root)
        options.split = SplitSettings::of(ds->options);
    auto* watcher = new QFutureWatcher<TransactionResult>(this);
    connect(watcher, &QFutureWatcher<TransactionResult>::finished, this, [this, watcher, op] {
        watcher->deleteLater();
        onFinished(op, watcher->result());
    });
    const QStringList unlabeled = ds ? ds->options.unlabeledFolders : plan.unlabeledFolders();
    watcher->setFuture(QtConcurrent::run([op, root, plan, options, renames, unlabeled]() -> TransactionResult {
        switch (op) {
        case Op::Rename:
            return Cleaning::renameFiles(root, renames, options, unlabeled);
        case Op::Apply:
            return Cleaning::applyPlan(root, plan, options);
        case Op::Undo:
            return Cleaning::undoLast(root);
        case Op::Redo:
            return Cleaning::redo(root);
        }
        return {};
    }));
}

void CleaningSession::onFinished(Op op, const TransactionResult& result)
{
    m_busy = false;
    m_history = Cleaning::status(m_root);
    // A rename (or its undo or redo) changes no label and no pixel: nothing to retrain. Decisions follow the files.
    const bool renamesOnly = op == Op::Rename
        || (!result.moves.isEmpty() && std::all_of(result.moves.cbegin(), result.moves.cend(), [](const FileMove& m) {
               return m.kind == MoveKind::Rename;
           }));
    if (result.ok && renamesOnly && m_document) {
        CleaningPlan plan = this->plan();
        bool moved = false;
        for (const FileMove& m : result.moves) {
            if (const auto d = plan.decision(m.from)) {
                plan.remove(m.from);
                CleanDecision next = *d;
                next.file = m.to;
                plan.insert(next);
                moved = true;
            }
        }
        if (moved) {
            setPlan(plan);
            savePending();
        }
    }
    if (result.ok) {
        if (op == Op::Apply && m_document) {
            // The applied decisions are done: the next round starts from an empty plan for the same folder.
            CleaningPlan next = plan();
            next.clear();
            setPlan(next);
            savePending();
        }
        Q_EMIT statusMessage(result.summary, 10000);
        if (m_document) {
            // Scores are kept by path: re-score after a rename too, so renamed files stay in the grids.
            m_retrainPending = !renamesOnly && m_retrainAfter->isChecked();
            m_scorePending = !m_retrainPending;
            m_document->rescan();
        }
    } else {
        Q_EMIT statusMessage(tr("%1 failed: %2").arg(opName(int(op)), result.error), 10000);
        if (!result.cancelled)
            Q_EMIT errorOccurred(tr("%1 Failed").arg(opName(int(op))), result.message());
        if ((result.rolledBack || result.incomplete) && m_document)
            m_document->rescan();
    }
    updateActions();
    Q_EMIT transactionFinished(result);
}

} // namespace Winnow
