// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/imagegrid/imagegridmodel.h"

#include <numeric>

#include <QApplication>
#include <QDir>
#include <QIcon>
#include <QPainter>
#include <QPalette>
#include <QStyle>

#include "core/engine/explainer.h"
#include "core/engine/run.h"
#include "core/metrics/dataissues.h"
#include "core/thumbnail/thumbnailloader.h"

namespace Winnow {

namespace {

constexpr qint64 kPixmapCacheBytes = qint64(96) * 1024 * 1024;

const QList<int> kScoreRoles = {
    ImageGridModel::PredictedLabelRole,
    ImageGridModel::LossRole,
    ImageGridModel::PPredictedRole,
    ImageGridModel::PGivenRole,
    ImageGridModel::MarginRole,
    ImageGridModel::HasScoreRole,
    ImageGridModel::PredictedIndexRole,
    ImageGridModel::MispredictedRole,
    ImageGridModel::EntropyRole,
    ImageGridModel::ScoreKindRole,
    ImageGridModel::IssueRole,
    ImageGridModel::SuggestedLabelRole,
    Qt::ToolTipRole,
};

} // namespace

ImageGridModel::ImageGridModel(QObject* parent)
    : QAbstractListModel(parent)
{
    m_pixmaps.setMaxCost(kPixmapCacheBytes);
    m_evidencePixmaps.setMaxCost(kPixmapCacheBytes / 4);
}

ImageGridModel::~ImageGridModel() = default;

void ImageGridModel::setThumbnailLoader(ThumbnailLoader* loader)
{
    if (m_loader == loader)
        return;
    if (m_loader)
        m_loader->disconnect(this);
    m_loader = loader;
    if (m_loader) {
        connect(m_loader, &ThumbnailLoader::thumbnailLoaded, this, &ImageGridModel::onThumbnailLoaded);
        connect(m_loader, &ThumbnailLoader::thumbnailFailed, this, &ImageGridModel::onThumbnailFailed);
    }
    resetCaches();
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0), index(rowCount() - 1), { Qt::DecorationRole, ThumbnailStateRole });
}

ThumbnailLoader* ImageGridModel::thumbnailLoader() const
{
    return m_loader;
}

void ImageGridModel::setDataset(const Dataset& dataset)
{
    std::vector<int> all(size_t(dataset.samples.size()));
    std::iota(all.begin(), all.end(), 0);
    setDataset(dataset, std::move(all));
}

void ImageGridModel::setDataset(const Dataset& dataset, std::vector<int> sampleIndices)
{
    beginResetModel();
    if (m_loader)
        m_loader->cancelAll();
    const bool sameRoot = dataset.root == m_scores.datasetRoot;
    m_dataset = dataset;
    m_rows = std::move(sampleIndices);
    const int n = int(m_dataset.samples.size());
    m_rows.erase(std::remove_if(m_rows.begin(), m_rows.end(), [n](int s) { return s < 0 || s >= n; }), m_rows.end());
    m_rowOfSample.assign(size_t(n), -1);
    for (size_t r = 0; r < m_rows.size(); ++r)
        m_rowOfSample[size_t(m_rows[r])] = int(r);
    resetCaches();
    if (!sameRoot)
        m_scores = {};
    m_scoreOfSample.assign(size_t(n), -1);
    for (int i = 0; i < m_scores.records.size(); ++i) {
        const int s = m_dataset.findSample(m_scores.records.at(i).file);
        if (s >= 0)
            m_scoreOfSample[size_t(s)] = i;
    }
    endResetModel();
}

void ImageGridModel::clear()
{
    beginResetModel();
    if (m_loader)
        m_loader->cancelAll();
    m_dataset = {};
    m_rows.clear();
    m_rowOfSample.clear();
    m_scores = {};
    m_scoreOfSample.clear();
    resetCaches();
    endResetModel();
}

const Dataset& ImageGridModel::dataset() const
{
    return m_dataset;
}

void ImageGridModel::setScores(const ScoreSet& scores)
{
    m_scores = scores;
    m_scoreOfSample.assign(size_t(m_dataset.samples.size()), -1);
    for (int i = 0; i < m_scores.records.size(); ++i) {
        const int s = m_dataset.findSample(m_scores.records.at(i).file);
        if (s >= 0)
            m_scoreOfSample[size_t(s)] = i;
    }
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0), index(rowCount() - 1), kScoreRoles);
    Q_EMIT scoresChanged();
}

const ScoreSet& ImageGridModel::scores() const
{
    return m_scores;
}

bool ImageGridModel::hasScores() const
{
    return !m_scores.records.isEmpty();
}

void ImageGridModel::setDecisions(const QHash<QString, QString>& decisionByRelPath)
{
    m_decisions = decisionByRelPath;
    refreshDecisions();
}

void ImageGridModel::setDecision(const QString& relPath, const QString& text)
{
    if (text.isEmpty())
        m_decisions.remove(relPath);
    else
        m_decisions.insert(relPath, text);
    const int row = rowForRelPath(relPath);
    if (row >= 0)
        Q_EMIT dataChanged(index(row), index(row), { DecisionRole });
    Q_EMIT decisionsChanged();
}

void ImageGridModel::setDecisionProvider(std::function<QString(const QString&)> provider)
{
    m_decisionProvider = std::move(provider);
    refreshDecisions();
}

void ImageGridModel::setDataIssueProvider(std::function<quint32(int)> provider)
{
    m_dataIssueProvider = std::move(provider);
    refreshDataIssues();
}

quint32 ImageGridModel::dataIssueFlags(int row) const
{
    const int s = sampleIndex(row);
    return m_dataIssueProvider && s >= 0 ? m_dataIssueProvider(s) : 0;
}

void ImageGridModel::refreshDataIssues()
{
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0), index(rowCount() - 1), { DataIssuesRole, DataIssueFlagsRole });
    Q_EMIT dataIssuesChanged();
}

void ImageGridModel::refreshDecisions()
{
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0), index(rowCount() - 1), { DecisionRole });
    Q_EMIT decisionsChanged();
}

void ImageGridModel::setThumbnailSize(int px)
{
    px = qBound(16, px, 1024);
    if (px == m_thumbPx)
        return;
    m_thumbPx = px;
    if (m_loader)
        m_loader->cancelAll();
    resetCaches();
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0), index(rowCount() - 1), { Qt::DecorationRole, ThumbnailStateRole });
}

int ImageGridModel::thumbnailSize() const
{
    return m_thumbPx;
}

int ImageGridModel::sampleIndex(int row) const
{
    return row >= 0 && size_t(row) < m_rows.size() ? m_rows[size_t(row)] : -1;
}

int ImageGridModel::rowForSample(int sampleIndex) const
{
    return sampleIndex >= 0 && size_t(sampleIndex) < m_rowOfSample.size() ? m_rowOfSample[size_t(sampleIndex)] : -1;
}

int ImageGridModel::rowForRelPath(const QString& relPath) const
{
    return rowForSample(m_dataset.findSample(relPath));
}

const Sample* ImageGridModel::sample(int row) const
{
    const int s = sampleIndex(row);
    return s >= 0 ? &m_dataset.samples.at(s) : nullptr;
}

const ScoreRecord* ImageGridModel::scoreForSample(int s) const
{
    if (s < 0 || size_t(s) >= m_scoreOfSample.size())
        return nullptr;
    const int r = m_scoreOfSample[size_t(s)];
    return r >= 0 ? &m_scores.records.at(r) : nullptr;
}

const ScoreRecord* ImageGridModel::score(int row) const
{
    return scoreForSample(sampleIndex(row));
}

QString ImageGridModel::decision(int row) const
{
    const Sample* s = sample(row);
    if (!s)
        return {};
    const auto it = m_decisions.constFind(s->relPath);
    if (it != m_decisions.constEnd())
        return *it;
    return m_decisionProvider ? m_decisionProvider(s->relPath) : QString();
}

ImageGridModel::ThumbnailState ImageGridModel::thumbnailState(int row) const
{
    const int s = sampleIndex(row);
    if (s < 0)
        return ThumbnailState::NotLoaded;
    if (m_failed.contains(s) || !m_dataset.samples.at(s).readable())
        return ThumbnailState::Failed;
    if (m_pixmaps.contains(s))
        return ThumbnailState::Ready;
    if (m_loader) {
        const QString path = m_dataset.absolutePath(m_dataset.samples.at(s));
        if (!m_loader->cached(path, m_thumbPx).isNull())
            return ThumbnailState::Ready;
        if (m_loader->isPending(quint64(s)))
            return ThumbnailState::Loading;
    }
    return ThumbnailState::NotLoaded;
}

void ImageGridModel::prioritizeThumbnails(const QList<int>& rows)
{
    if (!m_loader)
        return;
    QSet<quint64> keep;
    keep.reserve(rows.size());
    for (int row : rows) {
        const int s = sampleIndex(row);
        if (s >= 0)
            keep.insert(quint64(s));
    }
    m_loader->cancelAllExcept(keep);
    for (int row : rows) {
        const int s = sampleIndex(row);
        if (s < 0 || m_pixmaps.contains(s) || m_failed.contains(s) || !m_dataset.samples.at(s).readable())
            continue;
        const QString path = m_dataset.absolutePath(m_dataset.samples.at(s));
        if (m_loader->cached(path, m_thumbPx).isNull())
            m_loader->request(quint64(s), path, m_thumbPx);
    }
}

QPixmap ImageGridModel::thumbnail(int s) const
{
    if (const QPixmap* pixmap = m_pixmaps.object(s))
        return *pixmap;
    const Sample& sample = m_dataset.samples.at(s);
    if (!sample.readable() || m_failed.contains(s))
        return placeholder(true);
    if (!m_loader)
        return placeholder(false);
    const QString path = m_dataset.absolutePath(sample);
    const QImage image = m_loader->cached(path, m_thumbPx);
    if (!image.isNull()) {
        auto* pixmap = new QPixmap(QPixmap::fromImage(image));
        const QPixmap copy = *pixmap;
        m_pixmaps.insert(s, pixmap, qMax<qsizetype>(1, image.sizeInBytes()));
        return copy;
    }
    QString reason;
    if (m_loader->hasFailed(path, m_thumbPx, &reason)) {
        m_failed.insert(s);
        return placeholder(true);
    }
    // Fetch-on-paint; the view cancels what scrolls away.
    m_loader->request(quint64(s), path, m_thumbPx);
    return placeholder(false);
}

QPixmap ImageGridModel::placeholder(bool failed) const
{
    const int key = failed ? -1 : 1;
    const auto it = m_placeholders.constFind(key);
    if (it != m_placeholders.constEnd())
        return *it;
    // A neutral tile with a faint picture glyph (or a warning for broken files): never a debug-looking grey box.
    const int px = qMax(16, m_thumbPx);
    QPixmap pixmap(px * 4 / 5, px * 3 / 5);
    const QPalette palette = QApplication::palette();
    pixmap.fill(palette.color(QPalette::Base).darker(failed ? 112 : 106));
    QPainter painter(&pixmap);
    const QIcon icon = failed
        ? QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning)
        : QIcon::fromTheme(QStringLiteral("image-x-generic"), QApplication::style()->standardIcon(QStyle::SP_FileIcon));
    const int side = qMax(12, px / 5);
    const QRect r((pixmap.width() - side) / 2, (pixmap.height() - side) / 2, side, side);
    painter.setOpacity(failed ? 0.9 : 0.35);
    icon.paint(&painter, r);
    painter.end();
    m_placeholders.insert(key, pixmap);
    return pixmap;
}

void ImageGridModel::setExplainer(Explainer* explainer)
{
    if (m_explainer == explainer)
        return;
    if (m_explainer)
        m_explainer->disconnect(this);
    m_explainer = explainer;
    if (m_explainer)
        connect(m_explainer, &Explainer::ready, this, &ImageGridModel::onEvidenceReady);
    m_evidencePixmaps.clear();
    if (m_evidenceMode != EvidenceMode::Off && !m_rows.empty())
        Q_EMIT dataChanged(index(0), index(rowCount() - 1), { Qt::DecorationRole, EvidenceRole, EvidenceCaptionRole });
}

Explainer* ImageGridModel::explainer() const
{
    return m_explainer;
}

void ImageGridModel::setEvidenceMode(EvidenceMode mode)
{
    if (mode == m_evidenceMode)
        return;
    m_evidenceMode = mode;
    m_evidencePixmaps.clear();
    if (m_explainer)
        m_explainer->clearPending(); // the maps of the other mode are no longer wanted
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0), index(rowCount() - 1), { Qt::DecorationRole, EvidenceRole, EvidenceCaptionRole });
}

QString ImageGridModel::cycleEvidenceMode()
{
    if (!m_explainer || !m_explainer->hasModel()) {
        setEvidenceMode(EvidenceMode::Off);
        return tr("Evidence maps (G) need a trained model: train one or open a run first.");
    }
    const EvidenceMode next = m_evidenceMode == EvidenceMode::Off ? EvidenceMode::Predicted
        : m_evidenceMode == EvidenceMode::Predicted               ? EvidenceMode::Given
                                                                  : EvidenceMode::Off;
    setEvidenceMode(next);
    return next == EvidenceMode::Predicted
        ? tr("Evidence maps: where the model sees the predicted class (G: the given label)")
        : next == EvidenceMode::Given ? tr("Evidence maps: where the model sees the given label (G: off)")
                                      : tr("Evidence maps off (G: on)");
}

bool ImageGridModel::evidenceClass(int row, QString* className) const
{
    const Sample* smp = sample(row);
    className->clear();
    if (!smp || m_evidenceMode == EvidenceMode::Off || !smp->readable())
        return false;
    if (m_evidenceMode == EvidenceMode::Predicted) {
        // The class the card shows as predicted (the scorer's, which may be another model than the run's network);
        // "" (the network's own argmax) for a card without a score.
        if (const ScoreRecord* rec = scoreForSample(sampleIndex(row)); rec && rec->predicted >= 0)
            *className = m_scores.vocab.value(rec->predicted);
        return true;
    }
    if (smp->label < 0 || smp->label >= m_dataset.vocab.size())
        return false;
    *className = m_dataset.vocab.at(smp->label);
    return true;
}

const Explanation* ImageGridModel::requestEvidence(int row) const
{
    QString cls;
    if (!m_explainer || !m_explainer->hasModel() || !evidenceClass(row, &cls))
        return nullptr;
    return m_explainer->request(m_dataset.absolutePath(*sample(row)), cls);
}

QVariant ImageGridModel::evidenceDecoration(int s, int row) const
{
    if (const QPixmap* pixmap = m_evidencePixmaps.object(s))
        return *pixmap;
    QString cls;
    if (!evidenceClass(row, &cls) || !m_explainer->hasModel())
        return {};
    const Explanation* e = m_explainer->request(m_dataset.absolutePath(m_dataset.samples.at(s)), cls);
    if (!e || !e->ok())
        return {}; // computing, or failed (the caption says so)
    thumbnail(s); // from the loader's cache when it has it
    const QPixmap* thumb = m_pixmaps.object(s);
    if (!thumb)
        return {}; // no thumbnail yet: its arrival repaints the card
    const QImage blended = e->overlay(thumb->toImage());
    auto* pixmap = new QPixmap(QPixmap::fromImage(blended));
    const QPixmap copy = *pixmap;
    m_evidencePixmaps.insert(s, pixmap, qMax<qsizetype>(1, blended.sizeInBytes()));
    return copy;
}

QString ImageGridModel::evidenceCaption(int row) const
{
    QString cls;
    if (!m_explainer || !m_explainer->hasModel() || !evidenceClass(row, &cls))
        return {};
    const Sample* smp = sample(row);
    const Explanation* e = m_explainer->find(m_dataset.absolutePath(*smp), cls);
    if (!e)
        return tr("why: …");
    if (!e->ok())
        return tr("why: no map");
    return tr("why: %1").arg(e->label);
}

void ImageGridModel::onEvidenceReady(const QString& path, const QString& className)
{
    const QString rel = QDir(m_dataset.root).relativeFilePath(path);
    const int s = m_dataset.findSample(rel);
    const int row = rowForSample(s);
    QString cls;
    if (row < 0 || !evidenceClass(row, &cls) || cls != className)
        return;
    m_evidencePixmaps.remove(s);
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, { Qt::DecorationRole, EvidenceRole, EvidenceCaptionRole });
}

void ImageGridModel::resetCaches()
{
    m_evidencePixmaps.clear();
    m_pixmaps.clear();
    m_failed.clear();
    m_placeholders.clear();
}

void ImageGridModel::onThumbnailLoaded(quint64 id, const QImage& image)
{
    const int row = rowForSample(int(id));
    if (row < 0 || image.isNull())
        return;
    m_pixmaps.insert(int(id), new QPixmap(QPixmap::fromImage(image)), qMax<qsizetype>(1, image.sizeInBytes()));
    m_evidencePixmaps.remove(int(id));
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, { Qt::DecorationRole, ThumbnailStateRole });
}

void ImageGridModel::onThumbnailFailed(quint64 id, const QString&)
{
    const int row = rowForSample(int(id));
    if (row < 0)
        return;
    m_failed.insert(int(id));
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, { Qt::DecorationRole, ThumbnailStateRole });
}

int ImageGridModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

Qt::ItemFlags ImageGridModel::flags(const QModelIndex& index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemNeverHasChildren;
}

QVariant ImageGridModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int s = m_rows[size_t(index.row())];
    const Sample& sample = m_dataset.samples.at(s);
    const ScoreRecord* rec = scoreForSample(s);
    const auto className = [this](int label) {
        return label >= 0 && label < m_dataset.vocab.size() ? m_dataset.vocab.at(label) : QString();
    };

    switch (role) {
    case Qt::DisplayRole:
        return sample.relPath.mid(sample.relPath.lastIndexOf(QLatin1Char('/')) + 1);
    case Qt::DecorationRole:
        if (m_evidenceMode != EvidenceMode::Off && m_explainer)
            if (const QVariant v = evidenceDecoration(s, index.row()); v.isValid())
                return v;
        return thumbnail(s);
    case EvidenceRole:
        return m_evidenceMode != EvidenceMode::Off && m_evidencePixmaps.contains(s);
    case EvidenceCaptionRole:
        return evidenceCaption(index.row());
    case Qt::ToolTipRole: {
        QString tip = QStringLiteral("<b>%1</b>").arg(sample.relPath.toHtmlEscaped());
        tip += QStringLiteral("<br>Split: %1").arg(splitName(sample.split));
        if (sample.label >= 0)
            tip += QStringLiteral("<br>Label: %1").arg(className(sample.label).toHtmlEscaped());
        if (!sample.readable()) {
            tip += QStringLiteral("<br><span style='color:#c0392b'>Unreadable: %1</span>")
                       .arg(unreadableReason(sample.status).toHtmlEscaped());
            if (!sample.detail.isEmpty())
                tip += QStringLiteral(" (%1)").arg(sample.detail.toHtmlEscaped());
        }
        if (rec) {
            const QString predicted = m_scores.vocab.value(rec->predicted, className(rec->predicted));
            tip += QStringLiteral("<br>Predicted: %1 (p = %2)")
                       .arg(predicted.toHtmlEscaped())
                       .arg(rec->pPredicted, 0, 'f', 3);
            if (rec->given >= 0)
                tip += QStringLiteral("<br>p(given) = %1, margin = %2")
                           .arg(rec->pGiven, 0, 'f', 3)
                           .arg(rec->margin, 0, 'f', 3);
            tip += QStringLiteral("<br>Loss: %1").arg(rec->loss, 0, 'f', 3);
            tip += rec->kind == ScoreKind::OutOfSample ? QStringLiteral(" (out-of-sample)")
                                                       : QStringLiteral(" (in-sample)");
            if (rec->source)
                tip += QStringLiteral("<br>Scored by: %1").arg(scoreSourceDescription(rec->source));
            if (rec->issue)
                tip += QStringLiteral("<br><span style='color:#c77c02'>Likely label error: probably %1</span>")
                           .arg(m_scores.vocab.value(rec->suggested).toHtmlEscaped());
        }
        const QString dec = decision(index.row());
        if (!dec.isEmpty())
            tip += QStringLiteral("<br>Decision: %1").arg(dec.toHtmlEscaped());
        return tip;
    }
    case PathRole:
        return m_dataset.absolutePath(sample);
    case RelPathRole:
        return sample.relPath;
    case SampleIndexRole:
        return s;
    case GivenLabelRole:
        return className(sample.label);
    case GivenIndexRole:
        return sample.label;
    case SplitRole:
        return int(sample.split);
    case ReadableRole:
        return sample.readable();
    case UnreadableReasonRole:
        return sample.readable() ? QString() : unreadableReason(sample.status);
    case DecisionRole:
        return decision(index.row());
    case DataIssuesRole:
        return dataIssueBadges(dataIssueFlags(index.row()));
    case DataIssueFlagsRole:
        return int(dataIssueFlags(index.row()));
    case HasScoreRole:
        return rec != nullptr;
    case ThumbnailStateRole:
        return int(thumbnailState(index.row()));
    case MispredictedRole:
        return rec && sample.label >= 0 && rec->predicted >= 0 && rec->predicted != sample.label;
    case PredictedIndexRole:
        return rec ? rec->predicted : -1;
    case IssueRole:
        return rec && rec->issue;
    default:
        break;
    }

    if (!rec)
        return {};
    switch (role) {
    case PredictedLabelRole:
        return m_scores.vocab.value(rec->predicted, className(rec->predicted));
    case LossRole:
        return rec->loss;
    case PPredictedRole:
        return rec->pPredicted;
    case PGivenRole:
        return rec->given >= 0 ? QVariant(rec->pGiven) : QVariant();
    case MarginRole:
        return rec->margin;
    case EntropyRole:
        return rec->entropy;
    case ScoreKindRole:
        return int(rec->kind);
    case SuggestedLabelRole:
        return rec->suggested >= 0 ? QVariant(m_scores.vocab.value(rec->suggested)) : QVariant();
    default:
        return {};
    }
}

QHash<int, QByteArray> ImageGridModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert(PathRole, "path");
    names.insert(RelPathRole, "relPath");
    names.insert(SampleIndexRole, "sampleIndex");
    names.insert(GivenLabelRole, "givenLabel");
    names.insert(PredictedLabelRole, "predictedLabel");
    names.insert(LossRole, "loss");
    names.insert(PPredictedRole, "pPredicted");
    names.insert(PGivenRole, "pGiven");
    names.insert(MarginRole, "margin");
    names.insert(SplitRole, "split");
    names.insert(DecisionRole, "decision");
    names.insert(HasScoreRole, "hasScore");
    names.insert(ReadableRole, "readable");
    names.insert(GivenIndexRole, "givenIndex");
    names.insert(PredictedIndexRole, "predictedIndex");
    names.insert(MispredictedRole, "mispredicted");
    names.insert(ThumbnailStateRole, "thumbnailState");
    names.insert(UnreadableReasonRole, "unreadableReason");
    names.insert(EntropyRole, "entropy");
    names.insert(ScoreKindRole, "scoreKind");
    names.insert(IssueRole, "issue");
    names.insert(SuggestedLabelRole, "suggestedLabel");
    return names;
}

} // namespace Winnow
