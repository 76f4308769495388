// SPDX-License-Identifier: GPL-3.0-or-later
// winnow-bench: numbers, the machine and the report's shapes (app/bench/benchparts.h).
#include <algorithm>
#include <cmath>

#include <QElapsedTimer>
#include <QFile>
#include <QJsonValue>
#include <QSysInfo>
#include <QTextStream>

#include "app/bench/benchparts.h"

namespace Winnow::Bench {

namespace {

QTextStream& errStream()
{
    static QTextStream s(stderr);
    return s;
}

} // namespace

void note(const QString& what)
{
    errStream() << "bench: " << what << Qt::endl;
}

double seconds(const QElapsedTimer& t)
{
    return double(t.nsecsElapsed()) / 1e9;
}

double round3(double v)
{
    return std::round(v * 1000.0) / 1000.0;
}

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

QString cpuModel()
{
    QFile f(QStringLiteral("/proc/cpuinfo"));
    if (f.open(QIODevice::ReadOnly)) {
        for (const QByteArray& line : f.readAll().split('\n'))
            if (line.startsWith("model name"))
                return QString::fromUtf8(line.mid(line.indexOf(':') + 1).trimmed());
    }
    return QSysInfo::currentCpuArchitecture();
}

double totalMemoryGb()
{
    QFile f(QStringLiteral("/proc/meminfo"));
    if (f.open(QIODevice::ReadOnly)) {
        for (const QByteArray& line : f.readAll().split('\n'))
            if (line.startsWith("MemTotal:"))
                return round3(line.mid(9).trimmed().split(' ').constFirst().toDouble() / 1024.0 / 1024.0);
    }
    return 0;
}

double num(const QJsonObject& o, const QStringList& path)
{
    QJsonValue v = o;
    for (const QString& k : path)
        v = v.toObject().value(k);
    return v.toDouble(0);
}

QJsonObject ratio(double ours, double theirs)
{
    if (ours <= 0 || theirs <= 0)
        return {};
    return { { QStringLiteral("winnow"), round3(ours) }, { QStringLiteral("pytorch"), round3(theirs) },
        { QStringLiteral("ratio"), round3(ours / theirs) } };
}

QJsonObject target(const QString& what, double value, double goal, bool atLeast, const QString& unit)
{
    QJsonObject t { { QStringLiteral("what"), what },
        { QStringLiteral("target"),
            QString((atLeast ? QStringLiteral(">= ") : QStringLiteral("<= ")) + QString::number(goal) + unit) } };
    if (value <= 0) {
        t.insert(QStringLiteral("value"), QJsonValue::Null);
        t.insert(QStringLiteral("met"), QJsonValue::Null);
        return t;
    }
    t.insert(QStringLiteral("value"), round3(value));
    t.insert(QStringLiteral("met"), atLeast ? value >= goal : value <= goal);
    return t;
}

} // namespace Winnow::Bench
