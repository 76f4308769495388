// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/sampledetails.h"

#include <algorithm>
#include <numeric>

#include <QCoreApplication>

#include "core/engine/run.h"

namespace Winnow {

namespace {

QString fmt(double v)
{
    return QString::number(v, 'f', 3);
}

QString tr(const char* text)
{
    return QCoreApplication::translate("DecisionGrid", text);
}

/// Short text for a score kind: "out-of-sample" / "in-sample".
QString scoreKindText(ScoreKind kind)
{
    return kind == ScoreKind::InSample ? QStringLiteral("in-sample") : QStringLiteral("out-of-sample");
}

} // namespace

QString SampleDetails::html(const Dataset& ds, int s, const ScoreRecord* rec, const QStringList& vocab, View view)
{
    if (s < 0 || s >= ds.samples.size())
        return tr("<i>No image selected.</i>");
    const Sample& sample = ds.samples.at(s);
    QString html =
        QStringLiteral("<b>%1</b><br><small>%2</small>")
            .arg(sample.relPath.section(QLatin1Char('/'), -1).toHtmlEscaped(), sample.relPath.toHtmlEscaped());
    html += QStringLiteral("<table cellspacing=2>");
    const auto row = [&html](const QString& k, const QString& v) {
        html += QStringLiteral("<tr><td>%1</td><td>%2</td></tr>").arg(k, v);
    };
    row(tr("Split"), splitName(sample.split));
    row(tr("Given"), sample.label >= 0 ? ds.vocab.value(sample.label).toHtmlEscaped() : tr("<i>unlabeled</i>"));
    if (!sample.readable())
        row(tr("Unreadable"), unreadableReason(sample.status).toHtmlEscaped());
    if (rec) {
        const QString predicted = vocab.value(rec->predicted).toHtmlEscaped();
        if (view == View::Label && sample.label < 0) {
            row(tr("Suggested"), QStringLiteral("<b>%1</b>").arg(predicted));
            // The top three classes, so that "which class is it then?" has an answer.
            QList<int> order(rec->probs.size());
            std::iota(order.begin(), order.end(), 0);
            std::sort(order.begin(), order.end(), [rec](int a, int b) { return rec->probs.at(a) > rec->probs.at(b); });
            for (int i = 0; i < std::min<qsizetype>(3, order.size()); ++i)
                row(QStringLiteral("p(%1)").arg(vocab.value(order.at(i)).toHtmlEscaped()),
                    fmt(rec->probs.at(order.at(i))));
        } else {
            row(tr("Predicted"), predicted);
            row(tr("Loss"), fmt(rec->loss));
            row(tr("p(predicted)"), fmt(rec->pPredicted));
            if (rec->given >= 0) {
                row(tr("p(given)"), fmt(rec->pGiven));
                row(tr("Margin"), fmt(rec->margin));
            }
        }
        if (rec->issue)
            row(tr("Label"),
                QStringLiteral("<span style='color:#c77c02'>%1</span>")
                    .arg(tr("likely wrong, probably <b>%1</b>").arg(vocab.value(rec->suggested).toHtmlEscaped())));
        row(tr("Score"), scoreKindText(rec->kind));
        if (rec->source)
            row(tr("Scored by"), scoreSourceDescription(rec->source));
    } else {
        row(tr("Score"), tr("<i>not scored</i>"));
    }
    html += QStringLiteral("</table>");
    return html;
}

} // namespace Winnow
