// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <functional>
#include <vector>

#include <QAbstractListModel>
#include <QCache>
#include <QHash>
#include <QPixmap>
#include <QPointer>
#include <QSet>

#include "core/dataset/dataset.h"
#include "core/engine/types.h"

namespace Winnow {

class Explainer;
struct Explanation;
class ThumbnailLoader;

/**
 * One row per sample of a Dataset (all samples, or a chosen subset), with the sample's score when a ScoreSet is set
 * and a free-text cleaning decision. Nothing is computed per row on reset: rows are indices into the dataset, and
 * scores/decisions are looked up lazily, so resetting to 100k rows is O(n) integer work.
 *
 * Thumbnails: data(Qt::DecorationRole) returns a QPixmap (the thumbnail, or a placeholder while it loads) and asks the
 * ThumbnailLoader for missing ones; arrivals are announced with dataChanged({Qt::DecorationRole}). Thumbnail ids sent
 * to the loader are sample indices. ImageGridView cancels requests of rows that scrolled out of view.
 *
 * Decisions are display text keyed by relative path: "Keep", "Delete", "-> <class>" (or "→ <class>"). The model does
 * not know the cleaning plan: its owner pushes texts with setDecisions()/setDecision(), or installs a provider that is
 * queried lazily (refreshDecisions() after the plan changed).
 *
 * GUI thread only.
 */
class ImageGridModel : public QAbstractListModel
{
    Q_OBJECT
public:
    enum Roles {
        PathRole = Qt::UserRole + 1, ///< QString, absolute path
        RelPathRole, ///< QString, relative to the dataset root
        SampleIndexRole, ///< int, index into Dataset::samples
        GivenLabelRole, ///< QString class name ("" for unlabeled)
        PredictedLabelRole, ///< QString class name; invalid QVariant without a score
        LossRole, ///< double; invalid without a score
        PPredictedRole, ///< double p(predicted); invalid without a score
        PGivenRole, ///< double p(given); invalid without a score or when unlabeled
        MarginRole, ///< double p(given) - max p(other); invalid without a score
        SplitRole, ///< int (Winnow::Split)
        DecisionRole, ///< QString, "" when undecided
        HasScoreRole, ///< bool
        ReadableRole, ///< bool
        GivenIndexRole, ///< int label index, -1 unlabeled
        PredictedIndexRole, ///< int, -1 without a score
        MispredictedRole, ///< bool: scored, labeled and predicted != given
        ThumbnailStateRole, ///< int (ThumbnailState), does not trigger a load
        UnreadableReasonRole, ///< QString, "" when readable
        EntropyRole, ///< double; invalid without a score
        ScoreKindRole, ///< int (Winnow::ScoreKind); invalid without a score
        IssueRole, ///< bool: flagged as a likely label error (ScoreRecord::issue); false without a score
        SuggestedLabelRole, ///< QString: the likely right class (ScoreRecord::suggested); invalid without one
        DataIssuesRole, ///< QString: the card's data-issue badges ("copy · dark"), "" without (setDataIssueProvider)
        DataIssueFlagsRole, ///< int: the file's data-issue flags (bit DataIssue), 0 without
        EvidenceCaptionRole, ///< QString: "why: <class>" while an evidence map is shown or computed, else ""
        EvidenceRole, ///< bool: the decoration is the thumbnail with its evidence map blended in
    };
    Q_ENUM(Roles)

    enum class ThumbnailState { NotLoaded, Loading, Ready, Failed };
    /// Which class's Grad-CAM map the thumbnails show (see setExplainer).
    enum class EvidenceMode { Off, Predicted, Given };

    static constexpr int kDefaultThumbnailPx = 160;

    explicit ImageGridModel(QObject* parent = nullptr);
    ~ImageGridModel() override;

    /// Not owned; may be null (no thumbnails). Usually MainWindow's shared loader.
    void setThumbnailLoader(ThumbnailLoader* loader);
    ThumbnailLoader* thumbnailLoader() const;

    /// Show every sample of `dataset` (readable or not). Resets the model; keeps scores only if the root matches.
    void setDataset(const Dataset& dataset);
    /// Show only these samples (indices into dataset.samples, in this order).
    void setDataset(const Dataset& dataset, std::vector<int> sampleIndices);
    void clear();
    const Dataset& dataset() const;

    /// Attach scores (matched to samples by relative path; records of unknown files are ignored). Empty clears.
    /// Emits dataChanged for the score roles (layout kept, so selections and scroll position survive).
    void setScores(const ScoreSet& scores);
    const ScoreSet& scores() const;
    bool hasScores() const;

    void setDecisions(const QHash<QString, QString>& decisionByRelPath);
    void setDecision(const QString& relPath, const QString& text); ///< empty text clears
    /// Alternative to setDecisions(): queried lazily per row; call refreshDecisions() when its answers change.
    void setDecisionProvider(std::function<QString(const QString& relPath)> provider);
    /// Where DataIssuesRole / DataIssueFlagsRole come from: a sample index's data-issue flags (bit DataIssue of
    /// core/metrics/dataissues.h).
    void setDataIssueProvider(std::function<quint32(int sampleIndex)> provider);
    quint32 dataIssueFlags(int row) const; ///< 0 without a provider
    /// The provider's answers changed (a new report): every row's DataIssuesRole is announced.
    void refreshDataIssues();
    void refreshDecisions();

    /**
     * Grad-CAM maps on the thumbnails: with a mode other than Off, data(Qt::DecorationRole) asks `explainer` for the
     * row's map (the predicted class, or the given label) and, once it is ready, returns the thumbnail with the map
     * blended in. Only rows the view paints are asked for. Not owned; null turns the maps off.
     */
    void setExplainer(Explainer* explainer);
    Explainer* explainer() const;
    void setEvidenceMode(EvidenceMode mode);
    /// The G key: Off -> Predicted -> Given -> Off, or Off without an explainer that has a model. Returns the
    /// sentence for the status line that says what is shown now.
    QString cycleEvidenceMode();
    EvidenceMode evidenceMode() const
    {
        return m_evidenceMode;
    }
    /// Whether `row` gets a map, and for which class name: in Predicted mode the card's predicted class (its score's;
    /// "" for the network's own argmax without a score), in Given mode its label. False in mode Off, for unreadable
    /// images and for unlabeled images in Given mode.
    bool evidenceClass(int row, QString* className) const;
    /// The map of `row` for the current mode: cached, or null (and then asked for, when the row gets one).
    const Explanation* requestEvidence(int row) const;

    /// Edge of the square thumbnails are decoded for (device pixels). Changing it re-requests visible thumbnails.
    void setThumbnailSize(int px);
    int thumbnailSize() const;

    int sampleIndex(int row) const; ///< -1 if out of range
    int rowForSample(int sampleIndex) const; ///< -1 if not shown
    int rowForRelPath(const QString& relPath) const;
    const Sample* sample(int row) const;
    const ScoreRecord* score(int row) const; ///< null without a score
    const ScoreRecord* scoreForSample(int sampleIndex) const;
    QString decision(int row) const;
    ThumbnailState thumbnailState(int row) const;

    /// Ask for the thumbnails of these rows now (visible first), cancelling every other pending request.
    void prioritizeThumbnails(const QList<int>& rows);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

Q_SIGNALS:
    void scoresChanged();
    void decisionsChanged();
    void dataIssuesChanged(); ///< refreshDataIssues(): filters on the flags need a new pass

private:
    void onThumbnailLoaded(quint64 id, const QImage& image);
    void onThumbnailFailed(quint64 id, const QString& reason);
    void onEvidenceReady(const QString& path, const QString& className);
    QVariant evidenceDecoration(int sampleIndex, int row) const;
    QString evidenceCaption(int row) const;
    QPixmap thumbnail(int sampleIndex) const;
    QPixmap placeholder(bool failed) const;
    void resetCaches();

    Dataset m_dataset;
    std::vector<int> m_rows; ///< row -> sample index
    std::vector<int> m_rowOfSample; ///< sample index -> row or -1
    ScoreSet m_scores;
    std::vector<int> m_scoreOfSample; ///< sample index -> record index or -1
    QHash<QString, QString> m_decisions;
    std::function<QString(const QString&)> m_decisionProvider;
    std::function<quint32(int)> m_dataIssueProvider;
    QPointer<ThumbnailLoader> m_loader;
    int m_thumbPx = kDefaultThumbnailPx;
    mutable QCache<int, QPixmap> m_pixmaps; ///< sample index -> pixmap at m_thumbPx (byte cost)
    mutable QSet<int> m_failed; ///< sample indices whose thumbnail cannot be decoded
    mutable QHash<int, QPixmap> m_placeholders;
    QPointer<Explainer> m_explainer;
    EvidenceMode m_evidenceMode = EvidenceMode::Off;
    mutable QCache<int, QPixmap> m_evidencePixmaps; ///< sample index -> thumbnail with its map (byte cost)
};

} // namespace Winnow
