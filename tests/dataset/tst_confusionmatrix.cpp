// SPDX-License-Identifier: GPL-3.0-or-later
#include <QTest>

#include "core/metrics/confusionmatrix.h"

using namespace Winnow;

using Confusion = ConfusionMatrix::Confusion;
Q_DECLARE_METATYPE(QList<Confusion>)

namespace {

// Rows as lists: {{a0p0, a0p1}, {a1p0, a1p1}}.
QList<QList<int>> cells(const ConfusionMatrix& m)
{
    QList<QList<int>> out;
    for (int a = 0; a < m.size(); ++a) {
        QList<int> row;
        for (int p = 0; p < m.size(); ++p)
            row << m.count(a, p);
        out << row;
    }
    return out;
}

} // namespace

class TestConfusionMatrix : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fromPairs_data();
    void fromPairs();
    void mostConfused_data();
    void mostConfused();
    void fraction();
    void emptyAndInvalid();
    void diff();
    void valueSemantics();
};

void TestConfusionMatrix::fromPairs_data()
{
    QTest::addColumn<QList<int>>("actual");
    QTest::addColumn<QList<int>>("predicted");
    QTest::addColumn<int>("n");
    QTest::addColumn<QList<QList<int>>>("expected");
    QTest::addColumn<double>("accuracy");

    QTest::newRow("perfect 2") << QList<int> { 0, 1, 1, 0 } << QList<int> { 0, 1, 1, 0 } << 2
                               << QList<QList<int>> { { 2, 0 }, { 0, 2 } } << 1.0;
    // Rows are the actual class: a sample of class 0 predicted as 1 lands in (0, 1).
    QTest::newRow("rows are actual") << QList<int> { 0, 0, 0 } << QList<int> { 1, 1, 0 } << 2
                                     << QList<QList<int>> { { 1, 2 }, { 0, 0 } } << 1.0 / 3.0;
    QTest::newRow("three classes") << QList<int> { 0, 0, 1, 1, 2, 2, 2, 2 } << QList<int> { 0, 2, 1, 0, 2, 2, 1, 0 }
                                   << 3 << QList<QList<int>> { { 1, 0, 1 }, { 1, 1, 0 }, { 1, 1, 2 } } << 0.5;
    QTest::newRow("all wrong") << QList<int> { 0, 1 } << QList<int> { 1, 0 } << 2
                               << QList<QList<int>> { { 0, 1 }, { 1, 0 } } << 0.0;
    QTest::newRow("unused class") << QList<int> { 0, 0 } << QList<int> { 0, 0 } << 3
                                  << QList<QList<int>> { { 2, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 } } << 1.0;
}

void TestConfusionMatrix::fromPairs()
{
    QFETCH(QList<int>, actual);
    QFETCH(QList<int>, predicted);
    QFETCH(int, n);
    QFETCH(QList<QList<int>>, expected);
    QFETCH(double, accuracy);

    const ConfusionMatrix m = ConfusionMatrix::fromPairs(actual, predicted, n);
    QCOMPARE(m.size(), n);
    QCOMPARE(cells(m), expected);
    QCOMPARE(m.total(), int(actual.size()));
    QCOMPARE(m.ignored(), 0);
    QVERIFY(qFuzzyCompare(1.0 + m.accuracy(), 1.0 + accuracy));
    QVERIFY(qFuzzyCompare(1.0 + m.errorRate(), 1.0 + (1.0 - accuracy)));
    int rows = 0, cols = 0;
    for (int i = 0; i < n; ++i) {
        rows += m.rowTotal(i);
        cols += m.columnTotal(i);
        QCOMPARE(m.rowTotal(i), int(std::count(actual.cbegin(), actual.cend(), i)));
        QCOMPARE(m.columnTotal(i), int(std::count(predicted.cbegin(), predicted.cend(), i)));
    }
    QCOMPARE(rows, m.total());
    QCOMPARE(cols, m.total());

    // The std::span overload agrees.
    const std::vector<int> a(actual.cbegin(), actual.cend()), p(predicted.cbegin(), predicted.cend());
    QCOMPARE(ConfusionMatrix::fromPairs(std::span<const int>(a), std::span<const int>(p), n), m);
}

void TestConfusionMatrix::mostConfused_data()
{
    QTest::addColumn<QList<QList<int>>>("matrix");
    QTest::addColumn<int>("minVal");
    QTest::addColumn<QList<Confusion>>("expected");

    const QList<QList<int>> m3 { { 5, 2, 3 }, { 3, 7, 0 }, { 1, 3, 9 } };
    // Count desc; ties (three 3s) keep row-major order: (0,2), (1,0), (2,1).
    QTest::newRow("ties row-major") << m3 << 1
                                    << QList<Confusion> { { 0, 2, 3 }, { 1, 0, 3 }, { 2, 1, 3 }, { 0, 1, 2 },
                                           { 2, 0, 1 } };
    QTest::newRow("min 3") << m3 << 3 << QList<Confusion> { { 0, 2, 3 }, { 1, 0, 3 }, { 2, 1, 3 } };
    QTest::newRow("min 4") << m3 << 4 << QList<Confusion> {};
    QTest::newRow("min 0 acts as 1") << QList<QList<int>> { { 4, 0 }, { 1, 4 } } << 0
                                     << QList<Confusion> { { 1, 0, 1 } };
    QTest::newRow("diagonal never listed") << QList<QList<int>> { { 9, 0 }, { 0, 9 } } << 1 << QList<Confusion> {};
    QTest::newRow("bears-like") << QList<QList<int>> { { 30, 2, 0 }, { 1, 31, 0 }, { 0, 0, 32 } } << 1
                                << QList<Confusion> { { 0, 1, 2 }, { 1, 0, 1 } };
}

void TestConfusionMatrix::mostConfused()
{
    QFETCH(QList<QList<int>>, matrix);
    QFETCH(int, minVal);
    QFETCH(QList<Confusion>, expected);
    ConfusionMatrix m(int(matrix.size()));
    for (int a = 0; a < matrix.size(); ++a)
        for (int p = 0; p < matrix.size(); ++p)
            QVERIFY(m.add(a, p, matrix.at(a).at(p)));
    QCOMPARE(cells(m), matrix);
    QCOMPARE(m.mostConfused(minVal), expected);
}

void TestConfusionMatrix::fraction()
{
    const ConfusionMatrix m = ConfusionMatrix::fromPairs(QList<int> { 0, 0, 0, 0, 1 }, QList<int> { 0, 0, 0, 1, 1 }, 3);
    QCOMPARE(m.fraction(0, 0), 0.75);
    QCOMPARE(m.fraction(0, 1), 0.25);
    QCOMPARE(m.fraction(1, 1), 1.0);
    QCOMPARE(m.fraction(2, 2), 0.0); // empty row
    QCOMPARE(m.fraction(5, 0), 0.0); // out of range
    QCOMPARE(m.correct(), 4);
}

void TestConfusionMatrix::emptyAndInvalid()
{
    const ConfusionMatrix empty;
    QVERIFY(empty.isEmpty());
    QCOMPARE(empty.total(), 0);
    QCOMPARE(empty.accuracy(), 0.0);
    QCOMPARE(empty.errorRate(), 0.0);
    QCOMPARE(empty.count(0, 0), 0);
    QVERIFY(empty.mostConfused().isEmpty());

    const ConfusionMatrix zero(2);
    QCOMPARE(zero.accuracy(), 0.0);
    QCOMPARE(zero.errorRate(), 0.0);

    // -1 (unlabeled), out-of-range labels and a length mismatch are skipped and counted, never a crash.
    const ConfusionMatrix m =
        ConfusionMatrix::fromPairs(QList<int> { 0, -1, 1, 2, 1, 0 }, QList<int> { 0, 0, 7, 1, 1 }, 2);
    QCOMPARE(m.total(), 2);
    QCOMPARE(m.ignored(), 4);
    QCOMPARE(m.count(0, 0), 1);
    QCOMPARE(m.count(1, 1), 1);
    ConfusionMatrix n(2);
    QVERIFY(!n.add(2, 0));
    QVERIFY(!n.add(0, -1));
    QCOMPARE(n.total(), 0);
    QCOMPARE(ConfusionMatrix(-3).size(), 0);
}

void TestConfusionMatrix::diff()
{
    const QStringList names { "black", "grizzly", "teddys" };
    const ConfusionMatrix before =
        ConfusionMatrix::fromPairs(QList<int> { 0, 0, 1, 1, 2 }, QList<int> { 0, 1, 1, 0, 2 }, 3, names);
    const ConfusionMatrix after =
        ConfusionMatrix::fromPairs(QList<int> { 0, 0, 1, 1, 2 }, QList<int> { 0, 0, 1, 1, 1 }, 3, names);
    const ConfusionMatrix d = after.diff(before);
    QCOMPARE(d.size(), 3);
    QCOMPARE(d.classNames(), names);
    QCOMPARE(cells(d), (QList<QList<int>> { { 1, -1, 0 }, { -1, 1, 0 }, { 0, 1, -1 } }));
    QCOMPARE(d.total(), 0);
    QCOMPARE(d.correct(), 1); // one more right overall
    QVERIFY(after.diff(ConfusionMatrix(2)).isEmpty());
    QCOMPARE(before.diff(before), ConfusionMatrix(3));
}

void TestConfusionMatrix::valueSemantics()
{
    ConfusionMatrix a(2, { "x", "y" });
    a.add(0, 1);
    ConfusionMatrix b = a; // implicitly shared
    b.add(0, 1);
    QCOMPARE(a.count(0, 1), 1);
    QCOMPARE(b.count(0, 1), 2);
    QVERIFY(!(a == b));
    QVariant v = QVariant::fromValue(b);
    QCOMPARE(v.value<ConfusionMatrix>().count(0, 1), 2);
    QCOMPARE(v.value<ConfusionMatrix>().classNames(), QStringList({ "x", "y" }));
}

QTEST_APPLESS_MAIN(TestConfusionMatrix)
#include "tst_confusionmatrix.moc"
