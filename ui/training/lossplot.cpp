// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/training/lossplot.h"

#include <cmath>

#include <QChart>
#include <QLineSeries>
#include <QPen>
#include <QValueAxis>

namespace Winnow {

namespace {
const QColor kTrainColor(0x2d, 0x6c, 0xdf);
const QColor kValidColor(0xe6, 0x7e, 0x22);
} // namespace

LossPlot::LossPlot(QWidget* parent)
    : QChartView(new QChart, parent) // owns it (QChartView(parent) would make a default chart that setChart leaks)
{
    QChart* chart = this->chart();
    chart->setTitle(tr("Loss"));
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(6, 6, 6, 6));
    chart->setBackgroundRoundness(4);
    m_train = new QLineSeries(chart);
    m_train->setName(tr("train loss (smoothed, per batch)"));
    m_train->setPen(QPen(kTrainColor, 1.8));
    m_valid = new QLineSeries(chart);
    m_valid->setName(tr("valid loss (per epoch)"));
    m_valid->setPen(QPen(kValidColor, 2.2));
    m_valid->setPointsVisible(true);
    chart->addSeries(m_train);
    chart->addSeries(m_valid);
    m_axisX = new QValueAxis(chart);
    m_axisX->setTitleText(tr("epoch"));
    m_axisX->setLabelFormat(QStringLiteral("%.0f"));
    m_axisY = new QValueAxis(chart);
    m_axisY->setTitleText(tr("loss"));
    m_axisY->setLabelFormat(QStringLiteral("%.2f"));
    chart->addAxis(m_axisX, Qt::AlignBottom);
    chart->addAxis(m_axisY, Qt::AlignLeft);
    for (QLineSeries* s : { m_train, m_valid }) {
        s->attachAxis(m_axisX);
        s->attachAxis(m_axisY);
    }
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(220);
    reset(1);
}

void LossPlot::reset(int totalEpochs)
{
    m_train->clear();
    m_valid->clear();
    const int epochs = qMax(1, totalEpochs);
    m_yMax = 0;
    m_axisX->setRange(0, epochs);
    m_axisX->setTickCount(qMin(epochs, 10) + 1);
    m_axisY->setRange(0, 1);
}

void LossPlot::addTrainPoint(double epoch, double loss)
{
    if (!std::isfinite(loss))
        return;
    m_train->append(epoch, loss);
    fit(loss);
}

void LossPlot::addValidPoint(double epoch, double loss)
{
    if (!std::isfinite(loss))
        return;
    m_valid->append(epoch, loss);
    fit(loss);
}

void LossPlot::fit(double loss)
{
    if (loss > m_yMax) {
        m_yMax = loss;
        m_axisY->setRange(0, std::ceil(m_yMax * 11.0) / 10.0);
    }
}

} // namespace Winnow
