// SPDX-License-Identifier: GPL-3.0-or-later
// Child process for tst_apply_crash: runs one cleaning operation; WINNOW_CRASH_AT=n kills it at crash point n.
// WINNOW_PAUSE_AT=n with WINNOW_PAUSE_FILE=F instead stops at point n (locks held), writes F and waits until F is
// removed (at most 120 s): another process can meanwhile try the same dataset (tst_badinput's second writer).
// Usage: cleaning_crash_helper apply|undo|redo|restore|recover|cycle ROOT [PLAN.json]
// `cycle` prints "go" on stdout, then applies the plan, undoes it and redoes it (tst_apply_kill kills it at a random
// moment of that).
// Exit: 0 done, 1 the operation failed, 2 usage. A simulated crash ends with SIGKILL.
#include <cstdio>

#include <QFile>
#include <QFileInfo>
#include <QString>
#include <QThread>

#include "core/cleaning/cleaningplan.h"
#include "core/cleaning/testhooks.h"
#include "core/cleaning/transaction.h"

using namespace Winnow;

int main(int argc, char** argv)
{
    if (argc < 3)
        return 2;
    // The fault injection is switched on here, by the test's child, never by the shipped program.
    using namespace Winnow::Cleaning;
    if (const int n = qEnvironmentVariableIntValue("WINNOW_CRASH_AT"); n > 0)
        TestHooks::setCrashAt(n);
    if (const int n = qEnvironmentVariableIntValue("WINNOW_PAUSE_AT"); n > 0) {
        const QString marker = qEnvironmentVariable("WINNOW_PAUSE_FILE");
        if (marker.isEmpty())
            return 2;
        TestHooks::setPauseAt(n, [marker](const char* where) {
            // Written whole, then renamed: the test never reads a half-written marker.
            QFile f(marker + QStringLiteral(".part"));
            if (!f.open(QIODevice::WriteOnly) || f.write(where) < 0)
                std::abort();
            f.close();
            if (!f.rename(marker))
                std::abort();
            for (int i = 0; i < 6000 && QFileInfo::exists(marker); ++i)
                QThread::msleep(20);
        });
    }
    if (qEnvironmentVariableIntValue("WINNOW_TEST_NO_FSYNC") == 1)
        TestHooks::setSyncEnabled(false);
    QList<int> failing;
    for (const QString& m : qEnvironmentVariable("WINNOW_FAIL_MOVES").split(QLatin1Char(','), Qt::SkipEmptyParts))
        failing.append(m.trimmed().toInt());
    if (!failing.isEmpty())
        TestHooks::setFailingMoves(failing);
    const QString op = QString::fromLocal8Bit(argv[1]);
    const QString root = QString::fromLocal8Bit(argv[2]);
    TransactionResult r;
    if (op == QLatin1String("apply") || op == QLatin1String("cycle")) {
        if (argc < 4)
            return 2;
        QString error;
        const auto plan = CleaningPlan::load(QString::fromLocal8Bit(argv[3]), &error);
        if (!plan) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            return 2;
        }
        if (op == QLatin1String("cycle")) {
            std::fputs("go\n", stdout);
            std::fflush(stdout);
        }
        r = Cleaning::applyPlan(root, *plan);
        if (r.ok && op == QLatin1String("cycle"))
            r = Cleaning::undoLast(root);
        if (r.ok && op == QLatin1String("cycle"))
            r = Cleaning::redo(root);
    } else if (op == QLatin1String("undo")) {
        r = Cleaning::undoLast(root);
    } else if (op == QLatin1String("redo")) {
        r = Cleaning::redo(root);
    } else if (op == QLatin1String("restore")) {
        r = Cleaning::restoreFromTrash(root);
    } else if (op == QLatin1String("recover")) {
        const RecoveryReport rep = Cleaning::recover(root);
        return rep.ok() ? 0 : 1;
    } else {
        return 2;
    }
    if (!r.ok)
        std::fprintf(stderr, "%s\n", qPrintable(r.message()));
    return r.ok ? 0 : 1;
}
