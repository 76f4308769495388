// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/training/trainsettingsform.h"

#include <limits>

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

#include "ui/training/weightspicker.h"

namespace Winnow {

namespace {

const QStringList kDevices = { QStringLiteral("auto"), QStringLiteral("cpu"), QStringLiteral("cuda") };

QSpinBox* makeSpin(const QString& name, int min, int max, QWidget* parent)
{
    auto* spin = new QSpinBox(parent);
    spin->setObjectName(name);
    spin->setRange(min, max);
    return spin;
}

} // namespace

TrainSettingsForm::TrainSettingsForm(QWidget* parent)
    : QWidget(parent)
{
    auto* modelBox = new QGroupBox(tr("Model"), this);
    auto* modelForm = new QFormLayout(modelBox);
    modelForm->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_arch = new QComboBox(modelBox);
    m_arch->setObjectName(QStringLiteral("archCombo"));
    m_arch->addItems(pretrainedArchitectureNames());
    modelForm->addRow(tr("&Architecture:"), m_arch);

    m_weightsPicker = new WeightsPicker(modelBox);
    m_weightsPicker->setObjectName(QStringLiteral("weightsPicker"));
    auto* weightsLabel = new QLabel(tr("Pretrained &weights:"), modelBox); // the field, not the picker, is the buddy
    weightsLabel->setBuddy(m_weightsPicker->lineEdit());
    modelForm->addRow(weightsLabel, m_weightsPicker);

    m_device = new QComboBox(modelBox);
    m_device->setObjectName(QStringLiteral("deviceCombo"));
    m_device->addItem(tr("Automatic"), kDevices.at(0));
    m_device->addItem(tr("CPU"), kDevices.at(1));
    m_device->addItem(tr("CUDA GPU"), kDevices.at(2));
    modelForm->addRow(tr("&Device:"), m_device);

    auto* dataBox = new QGroupBox(tr("Data and schedule"), this);
    auto* dataForm = new QFormLayout(dataBox);
    dataForm->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_size = makeSpin(QStringLiteral("sizeSpin"), 32, 512, dataBox);
    m_size->setSingleStep(32);
    m_size->setSuffix(tr(" px"));
    dataForm->addRow(tr("Image &size:"), m_size);
    m_batch = makeSpin(QStringLiteral("batchSpin"), 1, 1024, dataBox);
    dataForm->addRow(tr("&Batch size:"), m_batch);
    m_freezeEpochs = makeSpin(QStringLiteral("freezeEpochsSpin"), 0, 20, dataBox);
    m_freezeEpochs->setToolTip(tr("Epochs with the pretrained body frozen (fastai fine_tune's first stage)"));
    dataForm->addRow(tr("&Frozen epochs:"), m_freezeEpochs);
    m_epochs = makeSpin(QStringLiteral("epochsSpin"), 1, 200, dataBox);
    m_epochs->setToolTip(tr("Epochs with the whole network unfrozen"));
    dataForm->addRow(tr("&Epochs:"), m_epochs);
    m_validPct = new QDoubleSpinBox(dataBox);
    m_validPct->setObjectName(QStringLiteral("validPctSpin"));
    m_validPct->setRange(0.05, 0.5);
    m_validPct->setSingleStep(0.05);
    m_validPct->setDecimals(2);
    m_validPct->setToolTip(tr("Share of each folder-per-class dataset held out for validation (valid_pct)"));
    dataForm->addRow(tr("&Validation share:"), m_validPct);
    m_seed = makeSpin(QStringLiteral("seedSpin"), 0, std::numeric_limits<int>::max(), dataBox);
    dataForm->addRow(tr("S&eed:"), m_seed);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(modelBox);
    layout->addWidget(dataBox);

    connect(m_arch, &QComboBox::currentTextChanged, m_weightsPicker, &WeightsPicker::setArch);
    connect(m_weightsPicker, &WeightsPicker::archRequested, m_arch, &QComboBox::setCurrentText);
}

TrainConfig TrainSettingsForm::config() const
{
    TrainConfig c;
    c.arch = m_arch->currentText();
    c.weights = m_weightsPicker->weights();
    c.size = m_size->value();
    c.batchSize = m_batch->value();
    c.epochs = m_epochs->value();
    c.freezeEpochs = m_freezeEpochs->value();
    c.validPct = m_validPct->value();
    c.seed = quint64(m_seed->value());
    c.device = m_device->currentData().toString();
    return c;
}

void TrainSettingsForm::setConfig(const TrainConfig& c)
{
    const QSignalBlocker block(m_arch);
    if (m_arch->findText(c.arch) < 0 && architectureNames().contains(c.arch))
        m_arch->addItem(c.arch);
    const int arch = m_arch->findText(c.arch);
    m_arch->setCurrentIndex(arch >= 0 ? arch : m_arch->findText(QStringLiteral("mobilenet_v2")));
    m_weightsPicker->setArchAndWeights(m_arch->currentText(), c.weights); // as given: no default follows
    m_size->setValue(c.size);
    m_batch->setValue(c.batchSize);
    m_epochs->setValue(c.epochs);
    m_freezeEpochs->setValue(c.freezeEpochs);
    m_validPct->setValue(c.validPct);
    m_seed->setValue(int(qMin<quint64>(c.seed, quint64(std::numeric_limits<int>::max()))));
    const int device = m_device->findData(c.device);
    m_device->setCurrentIndex(device >= 0 ? device : 0);
}

void TrainSettingsForm::setJobRunning(bool running)
{
    for (QWidget* w : std::initializer_list<QWidget*> {
             m_arch, m_size, m_batch, m_epochs, m_freezeEpochs, m_validPct, m_seed, m_device })
        w->setEnabled(!running);
    m_weightsPicker->setJobRunning(running); // the field and the catalogue button
}

} // namespace Winnow
