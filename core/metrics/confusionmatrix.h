// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <span>

#include <QList>
#include <QMetaType>
#include <QStringList>

namespace Winnow {

/**
 * An n x n confusion matrix: rows are the actual (given) class, columns the predicted class (fastai's
 * `ClassificationInterpretation.confusion_matrix()` convention). Pure value type: no Qt objects, cheap to copy
 * (implicitly shared), safe to pass between threads and through queued signals.
 *
 * Counts are ints and are never negative, except in the result of diff(), whose cells are differences.
 */
class ConfusionMatrix
{
public:
    /// One off-diagonal cell, for mostConfused().
    struct Confusion
    {
        int actual = 0;
        int predicted = 0;
        int count = 0;
        bool operator==(const Confusion&) const = default;
    };

    ConfusionMatrix() = default;
    explicit ConfusionMatrix(int n, const QStringList& classNames = {});

    /// Counts (actual[i], predicted[i]) pairs. Pairs with a label outside [0, n) (e.g. -1 for "unlabeled") are
    /// skipped and counted in ignored(); extra elements of the longer list are ignored too.
    static ConfusionMatrix fromPairs(
        std::span<const int> actual, std::span<const int> predicted, int n, const QStringList& classNames = {});
    static ConfusionMatrix fromPairs(
        const QList<int>& actual, const QList<int>& predicted, int n, const QStringList& classNames = {});

    int size() const
    {
        return m_n;
    } ///< number of classes
    bool isEmpty() const
    {
        return m_n == 0;
    }
    QStringList classNames() const
    {
        return m_names;
    } ///< may be empty; else size() names
    void setClassNames(const QStringList& names)
    {
        m_names = names;
    }

    /// Adds `k` to cell (actual, predicted); returns false (and changes nothing) when out of range.
    bool add(int actual, int predicted, int k = 1);

    int count(int actual, int predicted) const; ///< 0 when out of range
    int rowTotal(int actual) const; ///< how many samples have this actual class
    int columnTotal(int predicted) const; ///< how many samples were predicted as this class
    int total() const;
    int correct() const; ///< trace
    int ignored() const
    {
        return m_ignored;
    } ///< pairs fromPairs() skipped

    /// count / rowTotal (row-normalised, as `plot_confusion_matrix(normalize=True)`); 0 for an empty row.
    double fraction(int actual, int predicted) const;
    double accuracy() const; ///< correct / total; 0 when total is 0
    double errorRate() const; ///< 1 - accuracy; 0 when total is 0

    /// fastai `most_confused(min_val)`: every off-diagonal cell with count >= minVal, sorted by count descending;
    /// ties keep row-major order (actual, then predicted). minVal < 1 is treated as 1 (empty cells never listed).
    QList<Confusion> mostConfused(int minVal = 1) const;

    /// Cell-wise difference `*this - before`, for comparing two rounds: positive = more samples in that cell now.
    /// Returns an empty matrix when sizes differ. Names are taken from *this.
    ConfusionMatrix diff(const ConfusionMatrix& before) const;

    bool operator==(const ConfusionMatrix& other) const
    {
        return m_n == other.m_n && m_counts == other.m_counts;
    }

private:
    int m_n = 0;
    QList<int> m_counts; // row-major, m_n * m_n
    QStringList m_names;
    int m_ignored = 0;
};

} // namespace Winnow

Q_DECLARE_METATYPE(Winnow::ConfusionMatrix)
