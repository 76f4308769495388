// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QTranslator>

namespace Winnow {

/**
 * English plural forms without a .qm file: Qt resolves tr("%n class(es)", nullptr, n) through installed translators
 * only, so without one the user reads "1 class(es)". This translator answers every text that carries a count (n >= 0)
 * and a "(s)" / "(es)" marker: "1 class", "2 classes", "1 image", "0 images". Texts without a marker are left to Qt.
 */
class EnglishPlurals : public QTranslator
{
    Q_OBJECT
public:
    using QTranslator::QTranslator;

    QString translate(
        const char* context, const char* sourceText, const char* disambiguation = nullptr, int n = -1) const override;
    bool isEmpty() const override
    {
        return false;
    }

    /// The English form of `text` for the count `n` ("(s)" and "(es)" markers resolved).
    static QString resolve(const QString& text, int n);
    /// Installs one instance on the application (idempotent). Needs a QCoreApplication.
    static void install();
};

} // namespace Winnow
