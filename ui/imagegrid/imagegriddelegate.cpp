// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/imagegrid/imagegriddelegate.h"

#include <QApplication>
#include <QFontMetrics>
#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

#include "ui/imagegrid/imagegridmodel.h"

namespace Winnow {

namespace {

constexpr int kPad = 6;
constexpr int kMargin = 3;
const QColor kRed(0xd0, 0x3b, 0x32);
const QColor kGreen(0x2e, 0x9d, 0x5b);
const QColor kBlue(0x2d, 0x6c, 0xdf);
const QColor kAmber(0xe0, 0x8e, 0x0b);

QFont smallFont(const QFont& base)
{
    QFont f = base;
    if (f.pointSizeF() > 0)
        f.setPointSizeF(qMax(7.0, f.pointSizeF() * 0.9));
    else
        f.setPixelSize(qMax(9, f.pixelSize() * 9 / 10));
    return f;
}

QString number(const QVariant& v)
{
    return v.isValid() ? QString::number(v.toDouble(), 'f', 2) : QStringLiteral("–");
}

} // namespace

ImageGridDelegate::ImageGridDelegate(QObject* parent)
    : QStyledItemDelegate(parent)
{ }

void ImageGridDelegate::setThumbnailSize(int px)
{
    px = qBound(32, px, 1024);
    if (px == m_thumbPx)
        return;
    m_thumbPx = px;
    Q_EMIT sizeHintChanged({});
}

int ImageGridDelegate::thumbnailSize() const
{
    return m_thumbPx;
}

void ImageGridDelegate::setShowScores(bool on)
{
    if (on == m_showScores)
        return;
    m_showScores = on;
    Q_EMIT sizeHintChanged({});
}

bool ImageGridDelegate::showScores() const
{
    return m_showScores;
}

int ImageGridDelegate::lineHeight() const
{
    return QFontMetrics(smallFont(QApplication::font())).height() + 1;
}

int ImageGridDelegate::textLines() const
{
    return m_showScores ? 4 : 2;
}

QSize ImageGridDelegate::cardSize() const
{
    const int w = m_thumbPx + 2 * kPad + 2 * kMargin;
    const int h = 2 * kMargin + kPad + m_thumbPx + 4 + textLines() * lineHeight() + kPad;
    return { w, h };
}

QSize ImageGridDelegate::sizeHint(const QStyleOptionViewItem&, const QModelIndex&) const
{
    return cardSize();
}

QColor ImageGridDelegate::decisionColor(const QString& decision)
{
    const QString d = decision.trimmed();
    if (d.startsWith(QLatin1String("Keep"), Qt::CaseInsensitive) || d.startsWith(QChar(0x2713)))
        return kGreen; // "Keep", or the reviewed mark "✓ Kept"
    if (d.startsWith(QLatin1String("Delete"), Qt::CaseInsensitive))
        return kRed;
    if (d.startsWith(QLatin1String("->")) || d.startsWith(QChar(0x2192))
        || d.startsWith(QLatin1String("Relabel"), Qt::CaseInsensitive))
        return kBlue;
    return QColor(0x70, 0x70, 0x70);
}

QString ImageGridDelegate::elideFileName(const QFontMetrics& fm, const QString& name, int width)
{
    if (fm.horizontalAdvance(name) <= width)
        return name;
    const QString ellipsis(QChar(0x2026));
    const int dot = int(name.lastIndexOf(QLatin1Char('.')));
    const bool hasExt = dot > 0 && name.size() - dot <= 6;
    const QString stem = hasExt ? name.left(dot) : name;
    const QString ext = hasExt ? name.mid(dot) : QString();
    // With the extension if it leaves room for a few characters of the name, else without it.
    for (const QString& tailExt : { ext, QString() }) {
        for (int n = int(stem.size()) - 1; n >= 2; --n) {
            const int head = n / 3;
            const QString candidate = stem.left(head) + ellipsis + stem.right(n - head) + tailExt;
            if (fm.horizontalAdvance(candidate) <= width && (n >= 3 || tailExt.isEmpty()))
                return candidate;
        }
        if (tailExt.isEmpty())
            break;
    }
    return fm.elidedText(name, Qt::ElideRight, width);
}

void ImageGridDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing, true);
    painter->setRenderHint(QPainter::SmoothPixmapTransform, true);

    const QPalette& pal = option.palette;
    const bool selected = option.state & QStyle::State_Selected;
    const bool hovered = option.state & QStyle::State_MouseOver;
    const bool scored = index.data(ImageGridModel::HasScoreRole).toBool();
    const bool wrong = index.data(ImageGridModel::MispredictedRole).toBool();
    const bool readable = index.data(ImageGridModel::ReadableRole).toBool();

    // Card background.
    const QRectF card = QRectF(option.rect).adjusted(kMargin + 0.5, kMargin + 0.5, -kMargin - 0.5, -kMargin - 0.5);
    QColor fill = pal.color(QPalette::Base);
    QColor border = pal.color(QPalette::Mid);
    border.setAlpha(110);
    if (selected) {
        fill = pal.color(QPalette::Highlight);
        fill.setAlpha(55);
        border = pal.color(QPalette::Highlight);
    } else if (hovered) {
        fill = pal.color(QPalette::AlternateBase);
    }
    painter->setPen(QPen(border, selected ? 1.6 : 1.0));
    painter->setBrush(fill);
    painter->drawRoundedRect(card, 6, 6);

    // Thumbnail, centred in its square.
    const QRect thumbBox(option.rect.left() + kMargin + kPad, option.rect.top() + kMargin + kPad, m_thumbPx, m_thumbPx);
    const QVariant deco = index.data(Qt::DecorationRole);
    QRect imageRect = thumbBox;
    if (deco.canConvert<QPixmap>()) {
        const QPixmap pixmap = deco.value<QPixmap>();
        if (!pixmap.isNull()) {
            QSize s = pixmap.size() / pixmap.devicePixelRatio();
            s.scale(thumbBox.size(), Qt::KeepAspectRatio);
            imageRect = QRect(QPoint(0, 0), s);
            imageRect.moveCenter(thumbBox.center());
            QPainterPath clip;
            clip.addRoundedRect(QRectF(imageRect), 3, 3);
            painter->save();
            painter->setClipPath(clip);
            painter->drawPixmap(imageRect, pixmap);
            painter->restore();
        }
    }
    if (wrong) {
        painter->setPen(QPen(kRed, 2.0));
        painter->setBrush(Qt::NoBrush);
        painter->drawRoundedRect(QRectF(imageRect).adjusted(1, 1, -1, -1), 3, 3);
        // Corner flag so mispredictions stand out even in a wall of thumbnails.
        const qreal f = qMax(10, m_thumbPx / 9);
        QPainterPath tri;
        tri.moveTo(imageRect.right() + 1 - f, imageRect.top());
        tri.lineTo(imageRect.right() + 1, imageRect.top());
        tri.lineTo(imageRect.right() + 1, imageRect.top() + f);
        tri.closeSubpath();
        painter->fillPath(tri, kRed);
    }

    // Likely label error (confident learning): a small amber "!" disc at the thumbnail's bottom-left corner.
    if (index.data(ImageGridModel::IssueRole).toBool()) {
        const qreal d = qMax(12, m_thumbPx / 8);
        const QRectF disc(imageRect.left() + 3, imageRect.bottom() - 2 - d, d, d);
        painter->setPen(QPen(Qt::white, 1.2));
        painter->setBrush(kAmber);
        painter->drawEllipse(disc);
        QFont mf = option.font;
        mf.setBold(true);
        mf.setPixelSize(qMax(8, int(d * 0.7)));
        painter->setFont(mf);
        painter->setPen(Qt::white);
        painter->drawText(disc, Qt::AlignCenter, QStringLiteral("!"));
    }

    // Decision badge over the thumbnail's top-left corner.
    const QFont small = smallFont(option.font);
    const QString decision = index.data(ImageGridModel::DecisionRole).toString();
    if (!decision.isEmpty()) {
        QFont bf = small;
        bf.setBold(true);
        const QFontMetrics bfm(bf);
        QString text = decision;
        if (text.startsWith(QLatin1String("->")))
            text = QChar(0x2192) + text.mid(2);
        text = bfm.elidedText(text, Qt::ElideRight, m_thumbPx - 8);
        const QRect badge(thumbBox.left() + 4, thumbBox.top() + 4, bfm.horizontalAdvance(text) + 12, bfm.height() + 4);
        painter->setPen(Qt::NoPen);
        painter->setBrush(decisionColor(decision));
        painter->drawRoundedRect(QRectF(badge), badge.height() / 2.0, badge.height() / 2.0);
        painter->setFont(bf);
        painter->setPen(Qt::white);
        painter->drawText(badge, Qt::AlignCenter, text);
    }

    // Data-issue badges over the thumbnail's bottom-left corner ("copy · dark"), quieter than a decision.
    if (const QString issues = index.data(ImageGridModel::DataIssuesRole).toString(); !issues.isEmpty()) {
        const QFontMetrics ifm(small);
        const QString text = ifm.elidedText(issues, Qt::ElideRight, m_thumbPx - 16);
        const QRect badge(thumbBox.left() + 4, thumbBox.bottom() - ifm.height() - 6, ifm.horizontalAdvance(text) + 10,
            ifm.height() + 2);
        painter->setPen(Qt::NoPen);
        painter->setBrush(QColor(40, 40, 40, 200));
        painter->drawRoundedRect(QRectF(badge), 3, 3);
        painter->setFont(small);
        painter->setPen(Qt::white);
        painter->drawText(badge, Qt::AlignCenter, text);
    }

    // Evidence map caption ("why: grizzly") at the thumbnail's top-right corner, under the mispredicted flag.
    if (const QString why = index.data(ImageGridModel::EvidenceCaptionRole).toString(); !why.isEmpty()) {
        const QFontMetrics wfm(small);
        const QString text = wfm.elidedText(why, Qt::ElideRight, m_thumbPx / 2 + 10);
        const int w = wfm.horizontalAdvance(text) + 10;
        const int top = imageRect.top() + qMax(10, m_thumbPx / 9) + 3;
        const QRect badge(imageRect.right() - 3 - w, top, w, wfm.height() + 2);
        painter->setPen(Qt::NoPen);
        painter->setBrush(QColor(120, 30, 20, 210));
        painter->drawRoundedRect(QRectF(badge), 3, 3);
        painter->setFont(small);
        painter->setPen(Qt::white);
        painter->drawText(badge, Qt::AlignCenter, text);
    }

    // Text lines.
    const QFontMetrics fm(small);
    const int lh = lineHeight();
    const int textLeft = thumbBox.left();
    const int textWidth = m_thumbPx;
    int y = thumbBox.bottom() + 1 + 4;
    const QColor textColor = selected ? pal.color(QPalette::Text) : pal.color(QPalette::Text);
    QColor dim = pal.color(QPalette::PlaceholderText);
    if (!dim.isValid() || dim == textColor)
        dim = pal.color(QPalette::Mid);

    const auto line = [&](const QString& left, const QColor& color, const QString& right = {}, bool bold = false) {
        QFont f = small;
        f.setBold(bold);
        painter->setFont(f);
        const QFontMetrics m(f);
        const QRect r(textLeft, y, textWidth, lh);
        int rightWidth = 0;
        // The right-hand text is secondary: on a narrow card (the smallest zoom) it goes rather than run into, or
        // cut short, the left-hand text.
        if (const int need = right.isEmpty() ? 0 : m.horizontalAdvance(right) + 6;
            need > 0 && need + m.horizontalAdvance(left) <= textWidth) {
            painter->setPen(dim);
            rightWidth = need;
            painter->drawText(r, Qt::AlignRight | Qt::AlignVCenter, right);
        }
        painter->setPen(color);
        painter->drawText(QRect(r.left(), r.top(), r.width() - rightWidth, r.height()),
            Qt::AlignLeft | Qt::AlignVCenter, m.elidedText(left, Qt::ElideMiddle, r.width() - rightWidth));
        y += lh;
    };

    {
        QFont nameFont = small;
        nameFont.setBold(true);
        line(elideFileName(QFontMetrics(nameFont), index.data(Qt::DisplayRole).toString(), textWidth), textColor, {},
            true);
    }

    const QString given = index.data(ImageGridModel::GivenLabelRole).toString();
    const Split split = Split(index.data(ImageGridModel::SplitRole).toInt());
    const QString givenText = given.isEmpty() ? QStringLiteral("unlabeled") : given;
    if (!readable) {
        line(QStringLiteral("unreadable: ") + index.data(ImageGridModel::UnreadableReasonRole).toString(), kRed);
    } else if (scored) {
        const QString predicted = index.data(ImageGridModel::PredictedLabelRole).toString();
        // "given → predicted", the predicted part red when it disagrees.
        painter->setFont(small);
        const QRect r(textLeft, y, textWidth, lh);
        const QString arrow = QStringLiteral(" %1 ").arg(QChar(0x2192));
        const QString left = fm.elidedText(givenText, Qt::ElideRight, textWidth / 2 - 8);
        painter->setPen(textColor);
        painter->drawText(r, Qt::AlignLeft | Qt::AlignVCenter, left + arrow);
        const int used = fm.horizontalAdvance(left + arrow);
        painter->setPen(wrong ? kRed : kGreen);
        QFont pf = small;
        pf.setBold(wrong);
        painter->setFont(pf);
        painter->drawText(QRect(r.left() + used, r.top(), r.width() - used, r.height()),
            Qt::AlignLeft | Qt::AlignVCenter, QFontMetrics(pf).elidedText(predicted, Qt::ElideRight, r.width() - used));
        y += lh;
    } else {
        line(givenText, dim, splitName(split));
    }

    if (m_showScores) {
        if (scored) {
            line(QStringLiteral("loss ") + number(index.data(ImageGridModel::LossRole)), textColor,
                QStringLiteral("p(pred) ") + number(index.data(ImageGridModel::PPredictedRole)));
            line(QStringLiteral("p(given) ") + number(index.data(ImageGridModel::PGivenRole)), textColor,
                splitName(split));
        } else if (readable) {
            line(QStringLiteral("not scored"), dim, splitName(split));
        }
    }

    if (option.state & QStyle::State_HasFocus && selected) {
        painter->setPen(QPen(pal.color(QPalette::Highlight), 1, Qt::DotLine));
        painter->setBrush(Qt::NoBrush);
        painter->drawRoundedRect(card.adjusted(2, 2, -2, -2), 5, 5);
    }
    painter->restore();
}

} // namespace Winnow
