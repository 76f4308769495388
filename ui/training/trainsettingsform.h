// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

#include "core/engine/types.h"

class QComboBox;
class QDoubleSpinBox;
class QSpinBox;

namespace Winnow {

class WeightsPicker;

/**
 * The Train page's settings column: a "Model" box (architecture, pretrained weights, device) and a "Data and
 * schedule" box (image size, batch size, frozen and unfrozen epochs, validation share, seed), read and written as one
 * TrainConfig. The architecture and the WeightsPicker follow each other (a catalogue entry for another architecture
 * switches the combo). Knows nothing of jobs: the owner disables it while one runs. GUI thread only.
 */
class TrainSettingsForm : public QWidget
{
    Q_OBJECT
public:
    explicit TrainSettingsForm(QWidget* parent = nullptr);

    TrainConfig config() const; ///< from the widgets
    /// Shows `config`. An architecture the combo does not offer but the engine knows (the `tiny` test network, from
    /// the CLI) is added; an unknown one falls back to mobilenet_v2. The weights are shown as given (no default
    /// follows), an unknown device as Automatic.
    void setConfig(const TrainConfig& config);

    /// While a job runs every field is disabled (the weights picker keeps its browse button and a download's Cancel).
    void setJobRunning(bool running);

    /// The weights field, its catalogue menu and downloads (the owner listens to its signals).
    WeightsPicker* weightsPicker() const
    {
        return m_weightsPicker;
    }

private:
    QComboBox* m_arch = nullptr;
    WeightsPicker* m_weightsPicker = nullptr;
    QComboBox* m_device = nullptr;
    QSpinBox* m_size = nullptr;
    QSpinBox* m_batch = nullptr;
    QSpinBox* m_freezeEpochs = nullptr;
    QSpinBox* m_epochs = nullptr;
    QDoubleSpinBox* m_validPct = nullptr;
    QSpinBox* m_seed = nullptr;
};

} // namespace Winnow
