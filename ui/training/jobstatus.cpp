// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/training/jobstatus.h"

#include <QCoreApplication>

namespace Winnow::JobStatus {

namespace {

QString tr(const char* text, int n = -1)
{
    return QCoreApplication::translate("TrainingPanel", text, nullptr, n);
}

} // namespace

QString startedText(const QString& what)
{
    if (what == QLatin1String("train"))
        return tr("Preparing training…");
    if (what == QLatin1String("retrain"))
        return tr("Retraining…");
    if (what == QLatin1String("score"))
        return tr("Scoring…");
    if (what == QLatin1String("load"))
        return tr("Loading the last run of this dataset…");
    if (what == QLatin1String("find data issues"))
        return tr("Checking the images for duplicates, outliers and unusable photos…");
    return tr("Starting %1…").arg(what);
}

QString phaseText(const QString& phase)
{
    if (phase.startsWith(QLatin1String("prepare retrain")))
        return tr("Scores are ready. Preparing the quick retrain…");
    if (phase.startsWith(QLatin1String("score")))
        return tr("Scoring every image…");
    if (phase.startsWith(QLatin1String("cross-validation")))
        return tr("Training the cross-validation networks that score the training images honestly (%1)…")
            .arg(phase.mid(int(qstrlen("cross-validation"))).trimmed());
    if (phase == QLatin1String("features"))
        return tr("Computing backbone features…");
    if (phase == QLatin1String("checking images"))
        return tr("Checking the images for duplicates, outliers and unusable photos…");
    if (phase == QLatin1String("k-fold"))
        return tr("Fitting out-of-sample heads…");
    if (phase == QLatin1String("valid"))
        return tr("Validating…");
    return phase + QStringLiteral("…");
}

QString unreadableText(const QStringList& files)
{
    QString names = files.mid(0, 3).join(QStringLiteral(", "));
    if (files.size() > 3)
        names += tr(" and %n more", int(files.size() - 3));
    return tr("%n file(s) could not be read (deleted or damaged since the dataset was opened) and were left out: %1. "
              "Rescan the dataset to see it as it is now.",
        int(files.size()))
        .arg(names);
}

} // namespace Winnow::JobStatus
