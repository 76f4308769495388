// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <memory>

#include <QCache>
#include <QObject>
#include <QString>

#include "core/engine/predictor.h"

namespace Winnow {

/**
 * Grad-CAM maps for the GUI, computed off the GUI thread and cached: the cards in view ask with find(); a miss
 * queues the image (newest request first, so the cards the user is looking at now come before those scrolled past)
 * and ready() announces it. The model is the run folder's (Predictor::loadRun, loaded on the worker the first time a
 * map is asked for); a new run folder drops the cache and everything pending.
 *
 * One worker thread: the maps take turns with each other, not with the GUI. Classes are named, so a card can ask for
 * its given class even when the dataset's class list differs from the model's (a class the model lacks fails).
 * find() and request() are GUI thread only.
 */
class Explainer : public QObject
{
    Q_OBJECT
public:
    explicit Explainer(QObject* parent = nullptr);
    ~Explainer() override;

    /// The run whose model explains (empty: none; every find() misses and nothing is queued). Drops the cache and the
    /// queue even for the same folder (a retrain rewrites it).
    void setRunDir(const QString& runDir);
    QString runDir() const
    {
        return m_runDir;
    }
    bool hasModel() const
    {
        return !m_runDir.isEmpty();
    }

    /// The cached map of `path` for `className` (empty: the predicted class), or null. A miss does not queue.
    const Explanation* find(const QString& path, const QString& className) const;
    /// find(), and on a miss queues the computation (at most once per key until it ends). The queue holds the
    /// kMaxQueued newest requests: after a fast scroll the oldest are dropped (a card that is shown again asks again).
    const Explanation* request(const QString& path, const QString& className);
    static constexpr int kMaxQueued = 64;
    /// True while `path`/`className` is queued, being computed, or computed and on its way to the GUI thread.
    bool isPending(const QString& path, const QString& className) const;
    /// True while `path`/`className` waits in the queue, not yet taken by the worker (a subset of isPending()).
    bool isQueued(const QString& path, const QString& className) const;
    /// Forgets the queue (not the map being computed): for a page that scrolled or closed.
    void clearPending();

Q_SIGNALS:
    /// A map is cached (ok() or not: a failure is cached too, with its error).
    void ready(const QString& path, const QString& className);
    /// The run folder's model cannot be loaded.
    void modelFailed(const QString& message);

private:
    struct Shared;
    void startWorker();
    void deliver(
        quint64 generation, const QString& key, const QString& path, const QString& className, const Explanation& e);

    std::unique_ptr<Shared> m_shared;
    QString m_runDir;
    quint64 m_generation = 0;
    QCache<QString, Explanation> m_cache { 400 };
};

} // namespace Winnow
