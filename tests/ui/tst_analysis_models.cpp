// SPDX-License-Identifier: GPL-3.0-or-later
// ConfusionMatrixModel and MostConfusedModel: counts, fractions, roles, and model invariants.
#include <QAbstractItemModelTester>
#include <QTest>

#include "ui/analysis/confusionmatrixdelegate.h"
#include "ui/analysis/confusionmatrixmodel.h"
#include "ui/analysis/mostconfusedmodel.h"

using namespace Winnow;

class TestAnalysisModels : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void confusionMatrix();
    void normalised();
    void badSize();
    void fromCoreMatrix();
    void mostConfusedModel();
    void heatColor();
};

void TestAnalysisModels::confusionMatrix()
{
    ConfusionMatrixModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QStringList classes { "black", "grizzly", "teddy" };
    // rows = actual, cols = predicted
    const QVector<int> counts { 5, 2, 0, //
        1, 7, 0, //
        0, 3, 4 };
    model.setMatrix(classes, counts);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.columnCount(), 3);
    QCOMPARE(model.headerData(0, Qt::Vertical).toString(), QStringLiteral("black"));
    QCOMPARE(model.headerData(2, Qt::Horizontal).toString(), QStringLiteral("teddy"));
    QCOMPARE(model.data(model.index(0, 1)).toInt(), 2);
    QCOMPARE(model.data(model.index(2, 1), ConfusionMatrixModel::CountRole).toInt(), 3);
    QCOMPARE(model.data(model.index(0, 1), ConfusionMatrixModel::FractionRole).toDouble(), 2.0 / 7.0);
    QVERIFY(model.data(model.index(1, 1), ConfusionMatrixModel::IsDiagonalRole).toBool());
    QVERIFY(!model.data(model.index(1, 0), ConfusionMatrixModel::IsDiagonalRole).toBool());
    QCOMPARE(model.data(model.index(1, 0), ConfusionMatrixModel::ActualRole).toInt(), 1);
    QCOMPARE(model.data(model.index(1, 0), ConfusionMatrixModel::PredictedRole).toInt(), 0);
    QCOMPARE(model.total(), 22);
    QCOMPARE(model.correct(), 16);
    // Raw heat: the largest count is 1.0.
    QCOMPARE(model.data(model.index(1, 1), ConfusionMatrixModel::HeatRole).toDouble(), 1.0);
    QCOMPARE(model.data(model.index(0, 0), ConfusionMatrixModel::HeatRole).toDouble(), 5.0 / 7.0);
}

void TestAnalysisModels::normalised()
{
    ConfusionMatrixModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setMatrix({ "a", "b" }, { 1, 3, 0, 0 });
    model.setNormalised(true);
    QVERIFY(model.isNormalised());
    QCOMPARE(model.data(model.index(0, 1)).toString(), QStringLiteral("0.75"));
    QCOMPARE(model.data(model.index(0, 0)).toString(), QStringLiteral("0.25"));
    // Empty row: fraction 0, no division by zero.
    QCOMPARE(model.data(model.index(1, 0), ConfusionMatrixModel::FractionRole).toDouble(), 0.0);
    QCOMPARE(model.data(model.index(0, 1), ConfusionMatrixModel::HeatRole).toDouble(), 1.0);
    model.setNormalised(false);
    QCOMPARE(model.data(model.index(0, 1)).toInt(), 3);
}

void TestAnalysisModels::badSize()
{
    ConfusionMatrixModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setMatrix({ "a", "b" }, { 1, 2, 3 });
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.count(0, 0), 0);
    model.setMatrix({ "a" }, { 4 });
    QCOMPARE(model.rowCount(), 1);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestAnalysisModels::fromCoreMatrix()
{
    // The models take the core value type as is.
    const QList<int> actual { 0, 0, 1, 2, 2, 2 };
    const QList<int> predicted { 0, 1, 1, 1, 1, 2 };
    const ConfusionMatrix cm = ConfusionMatrix::fromPairs(actual, predicted, 3, { "a", "b", "c" });
    ConfusionMatrixModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setMatrix(cm);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.headerData(1, Qt::Horizontal).toString(), QStringLiteral("b"));
    for (int a = 0; a < 3; ++a)
        for (int p = 0; p < 3; ++p)
            QCOMPARE(model.count(a, p), cm.count(a, p));
    QCOMPARE(model.count(2, 1), 2);

    MostConfusedModel list;
    QAbstractItemModelTester listTester(&list, QAbstractItemModelTester::FailureReportingMode::QtTest);
    list.setMatrix(cm);
    QCOMPARE(list.rowCount(), 2);
    QCOMPARE(list.pair(0).actual, 2);
    QCOMPARE(list.pair(0).predicted, 1);
    QCOMPARE(list.pair(0).count, 2);
    QCOMPARE(list.pair(1).actual, 0);
    list.setMatrix(cm, 2);
    QCOMPARE(list.rowCount(), 1);
    // Without names the model still names every class.
    list.setMatrix(ConfusionMatrix::fromPairs(QList<int> { 0 }, QList<int> { 1 }, 2));
    QCOMPARE(list.data(list.index(0, 0)).toString(), QStringLiteral("#0"));
}

void TestAnalysisModels::mostConfusedModel()
{
    MostConfusedModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QStringList classes { "black", "grizzly", "teddy" };
    model.setPairs(classes, { { 2, 1, 3 }, { 1, 0, 2 }, { 0, 1, 1 } });
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.columnCount(), 3);
    QCOMPARE(model.data(model.index(0, MostConfusedModel::ActualColumn)).toString(), QStringLiteral("teddy"));
    QCOMPARE(model.data(model.index(0, MostConfusedModel::PredictedColumn)).toString(), QStringLiteral("grizzly"));
    QCOMPARE(model.data(model.index(0, MostConfusedModel::CountColumn)).toInt(), 3);
    QCOMPARE(model.data(model.index(1, 2), MostConfusedModel::ActualRole).toInt(), 1);
    QCOMPARE(model.data(model.index(1, 0), MostConfusedModel::PredictedRole).toInt(), 0);
    QCOMPARE(model.headerData(0, Qt::Horizontal).toString(), QStringLiteral("Actual"));
    // Out-of-range pairs are dropped.
    model.setPairs(classes, { { 0, 7, 2 }, { 1, 2, 1 } });
    QCOMPARE(model.rowCount(), 1);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestAnalysisModels::heatColor()
{
    const QColor light = ConfusionMatrixDelegate::heatColor(0.0);
    const QColor dark = ConfusionMatrixDelegate::heatColor(1.0);
    QVERIFY(light.lightness() > 240);
    QVERIFY(dark.lightness() < 80);
    QVERIFY(ConfusionMatrixDelegate::heatColor(0.5).lightness() < light.lightness());
    QVERIFY(ConfusionMatrixDelegate::darkFill(0.9));
    QVERIFY(!ConfusionMatrixDelegate::darkFill(0.2));
}

QTEST_MAIN(TestAnalysisModels)
#include "tst_analysis_models.moc"
