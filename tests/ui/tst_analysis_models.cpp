// SPDX-License-Identifier: GPL-3.0-or-later
// ConfusionMatrixModel and MostConfusedModel: counts, fractions, roles, and model invariants.
#include <QAbstractItemModelTester>
#include <QTest>

#include "ui/analysis/confusionmatrixdelegate.h"
#include "ui/analysis/confusionmatrixmodel.h"
#include "ui/analysis/mostconfusedmodel.h"
#include "ui/analysis/sampledetails.h"

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
    void sampleDetails();
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

void TestAnalysisModels::sampleDetails()
{
    Dataset ds;
    ds.vocab = { "black", "grizzly", "teddys" };
    ds.samples = { Sample { "black/a.jpg", 0, Split::Train }, Sample { "new/b.jpg", -1, Split::Unlabeled },
        Sample { "black/c.jpg", 0, Split::Valid, Unreadable::Truncated } };
    ScoreRecord r;
    r.file = "black/a.jpg";
    r.given = 0;
    r.predicted = 1;
    r.probs = { 0.05f, 0.9f, 0.05f };
    r.loss = 2.996;
    r.pPredicted = 0.9;
    r.pGiven = 0.05;
    r.margin = -0.85;
    r.issue = true;
    r.suggested = 1;
    r.source = SourceCrossValBase | SourceFrozenKFold;
    const QString review = SampleDetails::html(ds, 0, &r, ds.vocab);
    for (const char* part : { "<b>a.jpg</b>", "black/a.jpg", "<td>train</td>", "<td>Given</td><td>black</td>",
             "<td>Predicted</td><td>grizzly</td>", "<td>Loss</td><td>2.996</td>", "<td>p(given)</td><td>0.050</td>",
             "<td>Margin</td><td>-0.850</td>", "likely wrong, probably <b>grizzly</b>", "out-of-sample", "Scored by" })
        QVERIFY2(
            review.contains(QLatin1String(part)), qPrintable(QLatin1String(part) + QLatin1String(" in ") + review));
    QVERIFY(!review.contains(QLatin1String("Suggested")));

    // An unlabeled image in the Label view: the suggestion and the top three classes, best first; no loss.
    ScoreRecord u;
    u.file = "new/b.jpg";
    u.predicted = 2;
    u.probs = { 0.1f, 0.3f, 0.6f };
    u.pPredicted = 0.6;
    const QString label = SampleDetails::html(ds, 1, &u, ds.vocab, SampleDetails::View::Label);
    QVERIFY2(label.contains(QLatin1String("<td>Suggested</td><td><b>teddys</b></td>")), qPrintable(label));
    QVERIFY(label.contains(QLatin1String("<i>unlabeled</i>")));
    const auto at = [&label](const char* s) { return label.indexOf(QLatin1String(s)); };
    QVERIFY(at("p(teddys)") >= 0 && at("p(teddys)") < at("p(grizzly)") && at("p(grizzly)") < at("p(black)"));
    QVERIFY(!label.contains(QLatin1String("Loss")));
    // The same record in the Review view shows the prediction instead.
    QVERIFY(SampleDetails::html(ds, 1, &u, ds.vocab).contains(QLatin1String("<td>Predicted</td><td>teddys</td>")));

    // Not scored, unreadable, and out of range.
    const QString bad = SampleDetails::html(ds, 2, nullptr, ds.vocab);
    QVERIFY(bad.contains(QLatin1String("Unreadable")));
    QVERIFY(bad.contains(QLatin1String("not scored")));
    QVERIFY(SampleDetails::html(ds, 3, nullptr, ds.vocab).contains(QLatin1String("No image selected")));
    QVERIFY(SampleDetails::html(ds, -1, nullptr, ds.vocab).contains(QLatin1String("No image selected")));
}
QTEST_MAIN(TestAnalysisModels)
#include "tst_analysis_models.moc"
