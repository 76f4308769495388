// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/engine/explainer.h"

#include <algorithm>
#include <deque>
#include <mutex>

#include <QSet>
#include <QThreadPool>

#include "core/util/threads.h"

namespace Winnow {

namespace {

QString keyOf(const QString& path, const QString& className)
{
    return className + QLatin1Char('\n') + path;
}

} // namespace

/// What the GUI thread and the worker share. The Explainer's destructor waits for the worker, so the worker may use
/// it (and the Explainer) through plain pointers.
struct Explainer::Shared
{
    struct Job
    {
        QString path, className, key;
    };
    std::mutex mutex;
    std::deque<Job> queue; ///< newest first
    QSet<QString> pending; ///< keys queued or running
    quint64 generation = 0;
    QString runDir;
    bool running = false;
    bool stopping = false;
    // Worker-side: the loaded model and the generation it belongs to.
    std::unique_ptr<Predictor> predictor;
    quint64 predictorGeneration = ~quint64(0);
    QString loadError;
    QThreadPool pool;
};

Explainer::Explainer(QObject* parent)
    : QObject(parent)
    , m_shared(std::make_unique<Shared>())
{
    m_shared->pool.setMaxThreadCount(threads::kModelWorkerThreads);
    m_shared->pool.setExpiryTimeout(30000);
}

Explainer::~Explainer()
{
    {
        std::lock_guard<std::mutex> lock(m_shared->mutex);
        m_shared->stopping = true;
        m_shared->queue.clear();
    }
    m_shared->pool.waitForDone();
}

void Explainer::setRunDir(const QString& runDir)
{
    // Always a new model: a retrain rewrites the same folder.
    m_runDir = runDir;
    m_cache.clear();
    std::lock_guard<std::mutex> lock(m_shared->mutex);
    m_generation = ++m_shared->generation;
    m_shared->runDir = runDir;
    m_shared->queue.clear();
    m_shared->pending.clear();
}

const Explanation* Explainer::find(const QString& path, const QString& className) const
{
    return m_cache.object(keyOf(path, className));
}

bool Explainer::isPending(const QString& path, const QString& className) const
{
    std::lock_guard<std::mutex> lock(m_shared->mutex);
    return m_shared->pending.contains(keyOf(path, className));
}

bool Explainer::isQueued(const QString& path, const QString& className) const
{
    const QString key = keyOf(path, className);
    std::lock_guard<std::mutex> lock(m_shared->mutex);
    return std::any_of(
        m_shared->queue.begin(), m_shared->queue.end(), [&key](const Shared::Job& job) { return job.key == key; });
}

const Explanation* Explainer::request(const QString& path, const QString& className)
{
    const QString key = keyOf(path, className);
    if (const Explanation* e = m_cache.object(key))
        return e;
    if (m_runDir.isEmpty() || path.isEmpty())
        return nullptr;
    bool start = false;
    {
        std::lock_guard<std::mutex> lock(m_shared->mutex);
        if (m_shared->pending.contains(key)) {
            // Already queued (or running): move it to the front, it is in view again. The queue is capped, so this
            // scan is short.
            for (auto it = m_shared->queue.begin(); it != m_shared->queue.end(); ++it)
                if (it->key == key) {
                    auto job = *it;
                    m_shared->queue.erase(it);
                    m_shared->queue.push_front(job);
                    break;
                }
            return nullptr;
        }
        m_shared->pending.insert(key);
        m_shared->queue.push_front({ path, className, key });
        while (m_shared->queue.size() > size_t(kMaxQueued)) { // the oldest requests are no longer in view
            m_shared->pending.remove(m_shared->queue.back().key);
            m_shared->queue.pop_back();
        }
        start = !m_shared->running;
        m_shared->running = true;
    }
    if (start)
        startWorker();
    return nullptr;
}

void Explainer::clearPending()
{
    std::lock_guard<std::mutex> lock(m_shared->mutex);
    for (const auto& job : m_shared->queue)
        m_shared->pending.remove(job.key);
    m_shared->queue.clear();
}

void Explainer::startWorker()
{
    Shared* shared = m_shared.get();
    Explainer* self = this;
    shared->pool.start([shared, self] {
        for (;;) {
            Shared::Job job;
            quint64 generation;
            QString runDir;
            {
                std::lock_guard<std::mutex> lock(shared->mutex);
                if (shared->queue.empty() || shared->stopping) {
                    shared->running = false;
                    return;
                }
                job = shared->queue.front();
                shared->queue.pop_front();
                generation = shared->generation;
                runDir = shared->runDir;
            }
            if (shared->predictorGeneration != generation) {
                shared->predictor = std::make_unique<Predictor>(PredictorOptions { QStringLiteral("auto"), 1 });
                shared->loadError.clear();
                if (!shared->predictor->loadRun(runDir, &shared->loadError)) {
                    shared->predictor.reset();
                    const QString message = shared->loadError;
                    QMetaObject::invokeMethod(
                        self, [self, message] { Q_EMIT self->modelFailed(message); }, Qt::QueuedConnection);
                }
                shared->predictorGeneration = generation;
            }
            Explanation e;
            e.file = job.path;
            if (!shared->predictor) {
                e.error = shared->loadError;
            } else {
                const int cls = job.className.isEmpty() ? -1 : int(shared->predictor->vocab().indexOf(job.className));
                if (!job.className.isEmpty() && cls < 0)
                    e.error = QStringLiteral("the model has no class '%1'").arg(job.className);
                else
                    e = shared->predictor->explain(job.path, cls);
            }
            // Runs on the GUI thread; dropped by Qt if the Explainer is gone by then.
            QMetaObject::invokeMethod(
                self, [self, generation, job, e] { self->deliver(generation, job.key, job.path, job.className, e); },
                Qt::QueuedConnection);
        }
    });
}

void Explainer::deliver(
    quint64 generation, const QString& key, const QString& path, const QString& className, const Explanation& e)
{
    {
        std::lock_guard<std::mutex> lock(m_shared->mutex);
        if (generation != m_shared->generation)
            return; // a map of another run's model
        m_shared->pending.remove(key);
    }
    m_cache.insert(key, new Explanation(e));
    Q_EMIT ready(path, className);
}

} // namespace Winnow
