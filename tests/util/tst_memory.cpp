// SPDX-License-Identifier: GPL-3.0-or-later
// Peak memory figures (core/util/memory.h), as the benchmarks report them: a phase's peak follows memory touched in
// that phase and forgets earlier phases; the process peak never forgets. Pages come from mmap, not malloc, so that
// freeing them really returns them (AddressSanitizer's allocator would keep freed blocks in its quarantine).
#include <cstring>
#include <sys/mman.h>

#include <QTest>

#include "core/util/memory.h"

using namespace Winnow;

class TestMemory : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void phaseAndProcessPeaks()
    {
        constexpr size_t kBytes = size_t(96) << 20;
        Memory::resetPhasePeak();
        const double base = Memory::phasePeakRssMb();
        QVERIFY(base > 1);
        void* block = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        QVERIFY(block != MAP_FAILED);
        std::memset(block, 1, kBytes); // resident now
        const double phase = Memory::phasePeakRssMb();
        QVERIFY2(phase >= base + 90, qPrintable(QStringLiteral("%1 -> %2 MiB").arg(base).arg(phase)));
        QVERIFY(munmap(block, kBytes) == 0);
        QVERIFY(Memory::phasePeakRssMb() >= phase - 1); // a peak, not the current size
        Memory::resetPhasePeak();
        const double next = Memory::phasePeakRssMb();
        QVERIFY2(next <= phase - 80, qPrintable(QStringLiteral("%1 after %2 MiB").arg(next).arg(phase)));
        QVERIFY(Memory::processPeakRssMb() >= phase - 1); // the whole run's peak keeps it
    }
};

QTEST_GUILESS_MAIN(TestMemory)
#include "tst_memory.moc"
