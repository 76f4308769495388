// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/metrics/confusionmatrix.h"

#include <algorithm>

namespace Winnow {

ConfusionMatrix::ConfusionMatrix(int n, const QStringList& classNames)
    : m_n(std::max(n, 0))
    , m_counts(qsizetype(m_n) * m_n, 0)
    , m_names(classNames)
{ }

ConfusionMatrix ConfusionMatrix::fromPairs(
    std::span<const int> actual, std::span<const int> predicted, int n, const QStringList& classNames)
{
    ConfusionMatrix m(n, classNames);
    const size_t common = std::min(actual.size(), predicted.size());
    m.m_ignored = int(std::max(actual.size(), predicted.size()) - common);
    for (size_t i = 0; i < common; ++i)
        if (!m.add(actual[i], predicted[i]))
            ++m.m_ignored;
    return m;
}

ConfusionMatrix ConfusionMatrix::fromPairs(
    const QList<int>& actual, const QList<int>& predicted, int n, const QStringList& classNames)
{
    return fromPairs(std::span<const int>(actual.constData(), size_t(actual.size())),
        std::span<const int>(predicted.constData(), size_t(predicted.size())), n, classNames);
}

bool ConfusionMatrix::add(int actual, int predicted, int k)
{
    if (actual < 0 || actual >= m_n || predicted < 0 || predicted >= m_n)
        return false;
    m_counts[qsizetype(actual) * m_n + predicted] += k;
    return true;
}

int ConfusionMatrix::count(int actual, int predicted) const
{
    if (actual < 0 || actual >= m_n || predicted < 0 || predicted >= m_n)
        return 0;
    return m_counts.at(qsizetype(actual) * m_n + predicted);
}

int ConfusionMatrix::rowTotal(int actual) const
{
    int sum = 0;
    for (int p = 0; p < m_n; ++p)
        sum += count(actual, p);
    return sum;
}

int ConfusionMatrix::columnTotal(int predicted) const
{
    int sum = 0;
    for (int a = 0; a < m_n; ++a)
        sum += count(a, predicted);
    return sum;
}

int ConfusionMatrix::total() const
{
    int sum = 0;
    for (const int c : m_counts)
        sum += c;
    return sum;
}

int ConfusionMatrix::correct() const
{
    int sum = 0;
    for (int i = 0; i < m_n; ++i)
        sum += count(i, i);
    return sum;
}

double ConfusionMatrix::fraction(int actual, int predicted) const
{
    const int row = rowTotal(actual);
    return row == 0 ? 0.0 : double(count(actual, predicted)) / double(row);
}

double ConfusionMatrix::accuracy() const
{
    const int t = total();
    return t == 0 ? 0.0 : double(correct()) / double(t);
}

double ConfusionMatrix::errorRate() const
{
    const int t = total();
    return t == 0 ? 0.0 : 1.0 - accuracy();
}

QList<ConfusionMatrix::Confusion> ConfusionMatrix::mostConfused(int minVal) const
{
    minVal = std::max(minVal, 1);
    QList<Confusion> out;
    for (int a = 0; a < m_n; ++a)
        for (int p = 0; p < m_n; ++p)
            if (a != p && count(a, p) >= minVal)
                out.append(Confusion { a, p, count(a, p) });
    // Stable sort keeps row-major order among equal counts, like fastai's np.where + stable sort.
    std::stable_sort(out.begin(), out.end(), [](const Confusion& x, const Confusion& y) { return x.count > y.count; });
    return out;
}

ConfusionMatrix ConfusionMatrix::diff(const ConfusionMatrix& before) const
{
    if (before.m_n != m_n)
        return {};
    ConfusionMatrix d(m_n, m_names);
    for (qsizetype i = 0; i < m_counts.size(); ++i)
        d.m_counts[i] = m_counts.at(i) - before.m_counts.at(i);
    return d;
}

} // namespace Winnow
