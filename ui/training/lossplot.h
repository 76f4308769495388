// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QChartView>

class QLineSeries;
class QValueAxis;

namespace Winnow {

/**
 * The Train page's loss curve: the smoothed train loss per batch and the valid loss per epoch, against the epoch.
 * The x axis spans the job's epochs; the y axis starts at 0 and grows to fit the largest loss (never shrinks while a
 * curve is drawn). Non-finite losses are not drawn.
 */
class LossPlot : public QChartView
{
    Q_OBJECT
public:
    explicit LossPlot(QWidget* parent = nullptr);

    /// Clears both curves for a job of `totalEpochs` epochs (at least 1).
    void reset(int totalEpochs);
    void addTrainPoint(double epoch, double loss);
    void addValidPoint(double epoch, double loss);

    QLineSeries* trainSeries() const
    {
        return m_train;
    }
    QLineSeries* validSeries() const
    {
        return m_valid;
    }
    QValueAxis* epochAxis() const
    {
        return m_axisX;
    }
    QValueAxis* lossAxis() const
    {
        return m_axisY;
    }

private:
    void fit(double loss);

    QLineSeries* m_train = nullptr;
    QLineSeries* m_valid = nullptr;
    QValueAxis* m_axisX = nullptr;
    QValueAxis* m_axisY = nullptr;
    double m_yMax = 0;
};

} // namespace Winnow
