// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/cleaning/testhooks.h"

#include <atomic>
#include <csignal>
#include <cstdio>

#include <QByteArray>
#include <QMutex>
#include <QString>
#include <QStringList>
#include <QtGlobal>

#include "core/cleaning/fsutil.h"
#include "core/cleaning/testhooks_p.h"

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace Winnow::Cleaning::TestHooks {

namespace {

struct State
{
    QMutex mutex;
    int crashAt = 0;
    int crashCount = 0;
    int pauseAt = 0;
    std::function<void(const char*)> pause;
    QList<int> failing;
    int moveCount = 0;
};

State& state()
{
    static State s;
    return s;
}

} // namespace

void setCrashAt(int n)
{
    State& s = state();
    QMutexLocker lock(&s.mutex);
    s.crashAt = n;
    s.crashCount = 0;
}

void setPauseAt(int n, std::function<void(const char* where)> pause)
{
    State& s = state();
    QMutexLocker lock(&s.mutex);
    s.pauseAt = n;
    s.pause = std::move(pause);
    s.crashCount = 0;
}

void setFailingMoves(const QList<int>& moves)
{
    State& s = state();
    QMutexLocker lock(&s.mutex);
    s.failing = moves;
    s.moveCount = 0;
}

void setSyncEnabled(bool on)
{
    Fs::setSyncEnabled(on);
}

void reset()
{
    Fs::setSyncEnabled(true);
    State& s = state();
    QMutexLocker lock(&s.mutex);
    s.crashAt = 0;
    s.crashCount = 0;
    s.pauseAt = 0;
    s.pause = {};
    s.failing.clear();
    s.moveCount = 0;
}

} // namespace Winnow::Cleaning::TestHooks

namespace Winnow::Cleaning::Internal {

void crashPoint(const char* where)
{
    using namespace TestHooks;
    State& s = state();
    QMutexLocker lock(&s.mutex);
    ++s.crashCount;
    if (s.pauseAt > 0 && s.crashCount == s.pauseAt && s.pause) {
        const auto pause = s.pause;
        lock.unlock();
        pause(where);
        return;
    }
    if (s.crashAt > 0 && s.crashCount == s.crashAt) {
        std::fprintf(stderr, "winnow: simulated crash at point %d (%s)\n", s.crashCount, where);
#ifdef Q_OS_UNIX
        ::kill(::getpid(), SIGKILL);
#endif
        std::abort();
    }
}

bool injectMoveFailure()
{
    using namespace TestHooks;
    State& s = state();
    QMutexLocker lock(&s.mutex);
    ++s.moveCount;
    return s.failing.contains(s.moveCount);
}

} // namespace Winnow::Cleaning::Internal
