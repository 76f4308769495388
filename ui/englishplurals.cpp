// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/englishplurals.h"

#include <QCoreApplication>
#include <QPointer>

namespace Winnow {

QString EnglishPlurals::resolve(const QString& text, int n)
{
    const bool one = n == 1;
    QString out = text;
    out.replace(QLatin1String("(es)"), one ? QString() : QStringLiteral("es"));
    out.replace(QLatin1String("(s)"), one ? QString() : QStringLiteral("s"));
    return out;
}

QString EnglishPlurals::translate(const char* context, const char* sourceText, const char* disambiguation, int n) const
{
    Q_UNUSED(context)
    Q_UNUSED(disambiguation)
    if (n < 0 || !sourceText)
        return {};
    const QString text = QString::fromUtf8(sourceText);
    if (!text.contains(QLatin1String("(s)")) && !text.contains(QLatin1String("(es)")))
        return {};
    return resolve(text, n); // QCoreApplication::translate() then puts the number in for %n
}

void EnglishPlurals::install()
{
    static QPointer<EnglishPlurals> installed;
    auto* app = QCoreApplication::instance();
    if (!app || installed)
        return;
    installed = new EnglishPlurals(app);
    QCoreApplication::installTranslator(installed);
}

} // namespace Winnow
