// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/labelissuesbar.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>

#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/decisionstore.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"

namespace Winnow {

LabelIssuesBar::LabelIssuesBar(DecisionGrid* grid, QWidget* parent)
    : QWidget(parent)
    , m_grid(grid)
{
    m_count = new QLabel(this);
    m_count->setObjectName(QStringLiteral("labelIssuesLabel"));
    m_flaggedOnly = new QCheckBox(tr("Flagged only"), this);
    m_flaggedOnly->setObjectName(QStringLiteral("flaggedOnlyBox"));
    m_flaggedOnly->setToolTip(tr("Show only the images flagged as likely label errors (marked with an amber !)"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_count);
    layout->addWidget(m_flaggedOnly);
    connect(m_flaggedOnly, &QCheckBox::toggled, this, [this](bool on) { m_grid->proxy()->setFlaggedOnly(on); });
    connect(m_grid->model(), &ImageGridModel::scoresChanged, this, &LabelIssuesBar::rebuild);
    connect(m_grid->model(), &QAbstractItemModel::modelReset, this, &LabelIssuesBar::rebuild);
    rebuild();
}

void LabelIssuesBar::setStore(DecisionStore* store)
{
    disconnect(m_storeConnection);
    m_store = store;
    if (store)
        m_storeConnection = connect(store, &DecisionStore::decisionsChanged, this, &LabelIssuesBar::update);
    update();
}

void LabelIssuesBar::rebuild()
{
    // Only records of files the grid shows count (the scores may be of an older scan).
    const ImageGridModel* model = m_grid->model();
    m_flaggedFiles.clear();
    for (const ScoreRecord& r : model->scores().records)
        if (r.issue && model->rowForRelPath(r.file) >= 0)
            m_flaggedFiles << r.file;
    update();
}

void LabelIssuesBar::update()
{
    const ImageGridModel* model = m_grid->model();
    const ScoreSet& scores = model->scores();
    m_reviewed = 0;
    if (m_store)
        for (const QString& f : std::as_const(m_flaggedFiles))
            if (m_store->action(f) != CleanAction::Keep || m_store->isReviewed(f))
                ++m_reviewed;
    const bool estimated = model->hasScores() && scores.estimatedErrors >= 0;
    m_flaggedOnly->setEnabled(estimated);
    if (!estimated) {
        m_flaggedOnly->setChecked(false); // never leave a filter on that cannot be switched off
        m_count->setText(model->hasScores() ? tr("Label errors: not estimated") : QString());
        m_count->setToolTip({});
        return;
    }
    const int n = scores.estimatedErrors;
    m_count->setText((n == 1 ? tr("about 1 likely label error") : tr("about %1 likely label errors").arg(n))
        + tr(", %1 reviewed").arg(m_reviewed));
    m_count->setToolTip(tr("Estimated with cleanlab's confident learning from the scores' probabilities (best when "
                           "they are out-of-sample). Flagged images: %1 (marked with an amber !). Reviewed: flagged "
                           "images with a decision (kept, deleted or moved).")
                            .arg(m_flaggedFiles.size()));
}

} // namespace Winnow
