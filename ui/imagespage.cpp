// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/imagespage.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QSettings>
#include <QSlider>
#include <QStyle>
#include <QVBoxLayout>

#include "core/metrics/dataissues.h"
#include "ui/analysis/decisionstore.h"
#include "ui/datasetdocument.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"

namespace Winnow {

namespace {

const QString kZoomKey = QStringLiteral("images/zoom");

QIcon themeIcon(const char* name, QStyle::StandardPixmap fallback)
{
    return QIcon::fromTheme(QString::fromLatin1(name), QApplication::style()->standardIcon(fallback));
}

} // namespace

ImagesPage::ImagesPage(DatasetDocument* document, ImageGridModel* model, ImageGridProxy* proxy, QWidget* parent)
    : QWidget(parent)
    , m_document(document)
    , m_imageModel(model)
    , m_imageProxy(proxy)
{
    setObjectName(QStringLiteral("imagesPage"));

    m_classCombo = new QComboBox(this);
    m_classCombo->setObjectName(QStringLiteral("classFilter"));
    m_classCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_classCombo->setMinimumContentsLength(9);
    m_splitCombo = new QComboBox(this);
    m_splitCombo->setObjectName(QStringLiteral("splitFilter"));
    m_splitCombo->addItem(tr("All splits"), int(ImageGridProxy::SplitFilter::All));
    m_splitCombo->addItem(tr("Training"), int(ImageGridProxy::SplitFilter::Train));
    m_splitCombo->addItem(tr("Validation"), int(ImageGridProxy::SplitFilter::Valid));
    m_splitCombo->addItem(tr("Unlabeled"), int(ImageGridProxy::SplitFilter::Unlabeled));
    m_sortCombo = new QComboBox(this);
    m_sortCombo->setObjectName(QStringLiteral("sortOrder"));
    m_sortCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_sortCombo->setMinimumContentsLength(11);
    m_sortCombo->addItem(tr("File name"), int(ImageGridProxy::SortOrder::None));
    m_sortCombo->addItem(tr("Highest loss first"), int(ImageGridProxy::SortOrder::ByLossDesc));
    m_sortCombo->addItem(tr("Smallest margin first"), int(ImageGridProxy::SortOrder::ByMarginAsc));
    m_sortCombo->addItem(tr("Lowest p(given) first"), int(ImageGridProxy::SortOrder::ByPGivenAsc));
    m_issueCombo = new QComboBox(this);
    m_issueCombo->setObjectName(QStringLiteral("issueFilter"));
    // Narrow (the toolbar must fit a 1366-pixel screen beside the dock); the list opens as wide as its items.
    m_issueCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_issueCombo->setMinimumContentsLength(6);
    m_issueCombo->setToolTip(tr("Only files with this data issue (from the Issues page's last check)"));
    m_issueCombo->addItem(tr("All files"), 0u);
    m_issueCombo->addItem(tr("Files with an issue"), (1u << kDataIssueCount) - 1);
    for (int t = 0; t < kDataIssueCount; ++t)
        m_issueCombo->addItem(dataIssueTitle(dataIssueAt(t)), 1u << t);
    m_search = new QLineEdit(this);
    m_search->setObjectName(QStringLiteral("searchEdit"));
    m_search->setPlaceholderText(tr("Filter by file name"));
    m_search->setClearButtonEnabled(true);
    m_search->addAction(themeIcon("edit-find", QStyle::SP_FileDialogContentsView), QLineEdit::LeadingPosition);
    m_search->setMaximumWidth(260);
    m_countLabel = new QLabel(this);
    m_countLabel->setObjectName(QStringLiteral("imageCount"));
    m_countLabel->setForegroundRole(QPalette::PlaceholderText);

    m_imageView = new ImageGridView(this);
    m_imageView->setObjectName(QStringLiteral("imageGrid"));
    m_imageView->setModel(m_imageProxy);
    m_imageView->setPlaceholderText(tr(
        "Open a dataset folder to browse its images:\nFile ▸ Open Folder (Ctrl+O), or drop a folder on this window."));
    m_imageView->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_imageView, &QWidget::customContextMenuRequested, this, &ImagesPage::showContextMenu);

    auto* zoomIcon = new QLabel(this);
    zoomIcon->setPixmap(themeIcon("zoom-in", QStyle::SP_FileDialogDetailedView).pixmap(16, 16));
    zoomIcon->setToolTip(tr("Thumbnail size"));
    QSlider* zoom = m_imageView->createZoomSlider(this);
    zoom->setObjectName(QStringLiteral("zoomSlider"));
    zoom->setFixedWidth(90);

    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(10, 8, 10, 6);
    bar->setSpacing(8);
    const auto label = [this](const QString& text, QWidget* buddy) {
        auto* l = new QLabel(text, this);
        l->setBuddy(buddy);
        return l;
    };
    bar->addWidget(label(tr("&Class:"), m_classCombo));
    bar->addWidget(m_classCombo);
    bar->addSpacing(6);
    bar->addWidget(label(tr("S&plit:"), m_splitCombo));
    bar->addWidget(m_splitCombo);
    bar->addSpacing(6);
    bar->addWidget(label(tr("S&ort:"), m_sortCombo));
    bar->addWidget(m_sortCombo);
    bar->addSpacing(6);
    bar->addWidget(m_issueCombo); // its items say what it filters by ("All files", "Outliers"...)
    bar->addSpacing(6);
    bar->addWidget(m_search, 1);
    bar->addStretch(1);
    bar->addWidget(m_countLabel);
    bar->addSpacing(10);
    bar->addWidget(zoomIcon);
    bar->addWidget(zoom);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(bar);
    layout->addWidget(m_imageView, 1);

    connect(m_classCombo, &QComboBox::currentIndexChanged, this,
        [this] { m_imageProxy->setClassFilter(m_classCombo->currentData().toInt()); });
    connect(m_splitCombo, &QComboBox::currentIndexChanged, this,
        [this] { m_imageProxy->setSplitFilter(ImageGridProxy::SplitFilter(m_splitCombo->currentData().toInt())); });
    connect(m_sortCombo, &QComboBox::currentIndexChanged, this, [this] {
        m_imageProxy->setSortOrder(ImageGridProxy::SortOrder(m_sortCombo->currentData().toInt()));
        m_imageView->scrollToTop();
    });
    connect(m_issueCombo, &QComboBox::currentIndexChanged, this,
        [this] { m_imageProxy->setDataIssueFilter(m_issueCombo->currentData().toUInt()); });
    connect(m_search, &QLineEdit::textChanged, m_imageProxy, &ImageGridProxy::setTextFilter);
    connect(m_imageProxy, &ImageGridProxy::filterChanged, this, &ImagesPage::updateCount);
    connect(m_imageProxy, &QAbstractItemModel::modelReset, this, &ImagesPage::updateCount);
    connect(m_imageProxy, &QAbstractItemModel::rowsInserted, this, &ImagesPage::updateCount);
    connect(m_imageProxy, &QAbstractItemModel::rowsRemoved, this, &ImagesPage::updateCount);
    m_imageView->setZoom(QSettings().value(kZoomKey, ImageGridView::kDefaultZoom).toInt());
    connect(m_imageView, &ImageGridView::zoomChanged, this, [](int px) { QSettings().setValue(kZoomKey, px); });
    updateFilterCombos();
    updateCount();
}

ImageGridView* ImagesPage::view() const
{
    return m_imageView;
}

void ImagesPage::datasetChanged()
{
    updateFilterCombos();
    updateCount();
    m_imageView->scrollToTop();
}

void ImagesPage::scoresChanged(const ScoreSet& scores)
{
    // First scores: show the most suspicious images first; later rounds keep the user's order.
    if (m_sortCombo->currentIndex() == 0 && !scores.isEmpty())
        m_sortCombo->setCurrentIndex(m_sortCombo->findData(int(ImageGridProxy::SortOrder::ByLossDesc)));
    updateCount();
}

void ImagesPage::showClass(int classIndex)
{
    m_classCombo->setCurrentIndex(qMax(0, m_classCombo->findData(classIndex)));
}

void ImagesPage::updateFilterCombos()
{
    const QSignalBlocker block(m_classCombo);
    const int previous = m_classCombo->currentData().isValid() ? m_classCombo->currentData().toInt() : -1;
    const QString previousName = m_classCombo->currentText();
    m_classCombo->clear();
    m_classCombo->addItem(tr("All classes"), -1);
    if (m_document->dataset()) {
        for (int i = 0; i < m_document->dataset()->vocab.size(); ++i)
            m_classCombo->addItem(m_document->dataset()->vocab.at(i), i);
    }
    int index = m_classCombo->findText(previousName);
    if (index < 0 || previous < 0)
        index = 0;
    m_classCombo->setCurrentIndex(index);
    m_imageProxy->setClassFilter(m_classCombo->currentData().toInt());
    m_classCombo->setEnabled((m_document->dataset() != nullptr));
    m_splitCombo->setEnabled((m_document->dataset() != nullptr));
    m_search->setEnabled((m_document->dataset() != nullptr));
}

void ImagesPage::updateCount()
{
    if (!m_document->dataset()) {
        m_countLabel->clear();
        return;
    }
    const int shown = m_imageProxy->rowCount();
    const int total = m_imageModel->rowCount();
    m_countLabel->setText(shown == total ? tr("%n image(s)", nullptr, total)
                                         : tr("%1 of %n image(s)", nullptr, total).arg(QLocale().toString(shown)));
    m_imageView->setPlaceholderText(tr("No images match the filters."));
}

void ImagesPage::showContextMenu(const QPoint& pos)
{
    const QModelIndex index = m_imageView->indexAt(pos);
    if (!index.isValid() || !m_document->dataset())
        return;
    // Right click on a card outside the selection acts on that card alone, like file managers do.
    if (!m_imageView->selectionModel()->isSelected(index))
        m_imageView->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect);
    const QList<int> samples = m_imageView->selectedSampleIndices();
    QStringList paths;
    for (int s : samples)
        if (s >= 0 && s < m_document->dataset()->samples.size())
            paths << m_document->dataset()->samples.at(s).relPath;
    if (paths.isEmpty())
        return;
    DecisionStore* store = m_document->decisions();
    auto* menu = new QMenu(this);
    menu->setObjectName(QStringLiteral("imageContextMenu"));
    menu->setAttribute(Qt::WA_DeleteOnClose);
    const QString what = paths.size() == 1 ? QStringLiteral("“%1”").arg(paths.first().section(QLatin1Char('/'), -1))
                                           : tr("%n image(s)", nullptr, int(paths.size()));
    if (store) {
        menu->addAction(tr("&Keep %1\tK").arg(what), this, [store, paths] { store->decide(paths, CleanAction::Keep); });
        menu->addAction(
            tr("&Delete %1\tD").arg(what), this, [store, paths] { store->decide(paths, CleanAction::Delete); });
        QMenu* move = menu->addMenu(tr("&Move to Class"));
        const QStringList classes = store->classes();
        for (const QString& c : classes)
            move->addAction(c, this, [this, store, paths, c] {
                QString error;
                if (!store->decide(paths, CleanAction::Relabel, c, &error))
                    Q_EMIT statusMessage(tr("Cannot move to %1: %2").arg(c, error), 5000);
            });
        move->setEnabled(!classes.isEmpty());
        menu->addSeparator();
    }
    ImageGridView::addFileActions(menu, QDir(m_document->dataset()->root).filePath(paths.first()));
    menu->popup(m_imageView->viewport()->mapToGlobal(pos));
}

} // namespace Winnow
