// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

class QLabel;
class QLineEdit;
class QMenu;
class QProgressBar;
class QToolButton;

namespace Winnow {

class WeightsDownloader;
struct WeightsEntry;

/**
 * The Train page's "Pretrained weights" field: a path field (elided in the middle while it has no focus), a browse
 * button and a menu of the weights catalogue's entries for the current architecture (cached ones are used at once,
 * others are downloaded into the cache with a progress bar and Cancel), and a warning below when the path is empty
 * (random initialisation), missing or not a .safetensors file. While the field holds the architecture's default
 * weights (or nothing), it follows setArch() to the new architecture's default. Three rows in a vertical layout, to be
 * placed as one form row (the owner's label takes lineEdit() as its buddy). Knows nothing of the training panel: the
 * owner tells it the architecture and listens to its signals. GUI thread only.
 */
class WeightsPicker : public QWidget
{
    Q_OBJECT
public:
    explicit WeightsPicker(QWidget* parent = nullptr);
    ~WeightsPicker() override;

    /// The weights file (trimmed); empty means random initialisation.
    QString weights() const;
    /// Sets the field; the path counts as a default (it follows setArch()) when it is the current architecture's.
    void setWeights(const QString& path);

    QString arch() const
    {
        return m_arch;
    }
    /// The architecture the weights are for: the catalogue menu lists its entries, and a field that still holds the
    /// previous default (or nothing) changes to this architecture's default weights.
    void setArch(const QString& arch);
    /// Both as a saved setting has them: the field holds `path` as given (empty stays empty, no default follows).
    void setArchAndWeights(const QString& arch, const QString& path);

    /// While a job runs, the field and the catalogue button are disabled (the browse button and a download's Cancel
    /// stay usable).
    void setJobRunning(bool running);

    /// The menu of the catalogue button, rebuilt each time it is about to show.
    QMenu* catalogueMenu() const;
    /// Uses a catalogue entry's weights, downloading them first when they are not cached. False if no such entry or
    /// a download is running. An entry for another architecture emits archRequested() first.
    bool useCatalogueWeights(const QString& id);
    bool isDownloading() const;

    /// The warning shown below the field (plain text), empty when there is none.
    QString warning() const
    {
        return m_warning;
    }
    QLineEdit* lineEdit() const;

Q_SIGNALS:
    /// The field's text changed; `path` is weights().
    void weightsChanged(const QString& path);
    /// A catalogue entry for `arch` was picked while the picker is set to another: the owner switches its
    /// architecture and calls setArch().
    void archRequested(const QString& arch);
    /// A download started, finished, failed or was cancelled (for a status line).
    void statusMessage(const QString& text, bool error);
    /// A download started, ended or could not start.
    void downloadingChanged(bool downloading);
    /// A catalogue download finished and the field now holds `path`.
    void downloaded(const QString& path);
    void downloadFailed(const QString& message);

private:
    void browse();
    void rebuildCatalogueMenu();
    bool useWeightsEntry(const WeightsEntry& entry); ///< the entry as the menu read it (no second catalogue read)
    void updateWarning();
    void updateEnabled();

    QString m_arch;
    QString m_lastDefaultWeights;
    QString m_warning;
    bool m_jobRunning = false;

    QLineEdit* m_weights = nullptr;
    QToolButton* m_catalogueButton = nullptr;
    QMenu* m_catalogueMenu = nullptr;
    QLabel* m_weightsWarning = nullptr;
    WeightsDownloader* m_downloader = nullptr;
    QWidget* m_downloadRow = nullptr;
    QProgressBar* m_downloadBar = nullptr;
    QString m_downloadId;
};

} // namespace Winnow
