// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers shared by the tests: locating ../shared, skipping (or failing under CI) when it is absent.
#pragma once

#include <QDir>
#include <QFileInfo>
#include <QString>
#include <QTest>

namespace WinnowTest {

/// The shared data folder: $WINNOW_SHARED, else ../shared beside the source tree. Empty if it does not exist.
inline QString sharedDir()
{
    QString dir = qEnvironmentVariable("WINNOW_SHARED");
    if (dir.isEmpty())
        dir = QStringLiteral(WINNOW_SHARED_DEFAULT);
    return QFileInfo(dir).isDir() ? QDir(dir).absolutePath() : QString();
}

inline bool underCi()
{
    return !qEnvironmentVariable("CI").isEmpty();
}

} // namespace WinnowTest

/// Use at the top of a test function that needs ../shared: skips with a clear message when it is absent, and fails
/// instead when the CI environment variable is set (CI always has it).
#define WINNOW_REQUIRE_SHARED(var)                                                                                     \
    const QString var = WinnowTest::sharedDir();                                                                       \
    do {                                                                                                               \
        if (var.isEmpty()) {                                                                                           \
            if (WinnowTest::underCi())                                                                                 \
                QFAIL("../shared (or $WINNOW_SHARED) is missing, and CI must have it");                                \
            QSKIP("../shared not found: set WINNOW_SHARED to the shared data folder to run this test");                \
        }                                                                                                              \
    } while (false)

/// The built winnow executable, for CLI tests.
inline QString winnowBinary()
{
    return QStringLiteral(WINNOW_BINARY);
}
