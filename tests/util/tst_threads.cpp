// SPDX-License-Identifier: GPL-3.0-or-later
// The thread policy (core/util/threads.h): what each kind of work gets on this machine and on others, and that it
// follows the CPUs this process may use (its affinity), as containers and `taskset` restrict them.
#include <QTest>
#include <QThread>

#include "core/util/threads.h"

#ifdef __linux__
#include <sched.h>
#endif

using namespace Winnow;

class TestThreads : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void countsOnThisMachine()
    {
        const int logical = threads::logicalCpus();
        QVERIFY(logical >= 1);
        QCOMPARE(logical, QThread::idealThreadCount()); // Qt's count for its pools follows the affinity mask too
        const int physical = threads::physicalCores();
        QVERIFY(physical >= 1);
        QVERIFY(physical <= logical);
        QCOMPARE(threads::computeThreads(0), physical);
        QCOMPARE(threads::computeThreads(-1), physical);
        QCOMPARE(threads::computeThreads(3), 3);
        QCOMPARE(threads::loaderThreads(), threads::loaderThreads(logical));
    }

    void loaderRule_data()
    {
        QTest::addColumn<int>("cpus");
        QTest::addColumn<int>("workers");
        QTest::newRow("1") << 1 << 1;
        QTest::newRow("2: the compute pool needs both") << 2 << 1;
        QTest::newRow("3") << 3 << 1;
        QTest::newRow("4") << 4 << 2;
        QTest::newRow("8") << 8 << 4;
        QTest::newRow("16") << 16 << 8;
        QTest::newRow("64: at most 8") << 64 << 8;
    }
    void loaderRule()
    {
        QFETCH(int, cpus);
        QFETCH(int, workers);
        QCOMPARE(threads::loaderThreads(cpus), workers);
    }

    void fixedWorkers()
    {
        QCOMPARE(threads::kModelWorkerThreads, 1);
        QVERIFY(threads::kThumbnailThreads >= 1);
    }

    void followsAffinity()
    {
#ifdef __linux__
        // sched_setaffinity(0, ...) restricts the calling thread, which is what the policy reads.
        cpu_set_t before;
        CPU_ZERO(&before);
        QCOMPARE(sched_getaffinity(0, sizeof before, &before), 0);
        int first = -1;
        for (int cpu = 0; cpu < CPU_SETSIZE && first < 0; ++cpu)
            if (CPU_ISSET(cpu, &before))
                first = cpu;
        QVERIFY(first >= 0);
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(first, &one);
        QCOMPARE(sched_setaffinity(0, sizeof one, &one), 0);
        const int logical = threads::logicalCpus();
        const int physical = threads::physicalCores();
        const int loader = threads::loaderThreads();
        const int compute = threads::computeThreads(0);
        QCOMPARE(sched_setaffinity(0, sizeof before, &before), 0);
        QCOMPARE(logical, 1);
        QCOMPARE(physical, 1);
        QCOMPARE(loader, 1);
        QCOMPARE(compute, 1);
        QCOMPARE(threads::logicalCpus(), CPU_COUNT(&before)); // restored
#else
        QSKIP("affinity masks are read on Linux only");
#endif
    }
};

QTEST_GUILESS_MAIN(TestThreads)
#include "tst_threads.moc"
