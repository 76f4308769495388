// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer: the HTTP request reader of `winnow serve` (Http::parseHead) and its multipart reader. The first byte
// picks small or default limits. A head it accepts is within the limits, its path is a '/' path from the target, and is
// read the same from its own bytes; no shorter prefix is accepted; a refusal has a 4xx/5xx status and a message; a
// multipart field it returns lies inside the body.
#include <cstdint>
#include <cstdlib>

#include "core/serve/httprequest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace Winnow::Http;
    if (size < 1)
        return 0;
    Limits limits;
    if (data[0] & 1) {
        limits.maxHead = 256;
        limits.maxHeaders = 4;
        limits.maxTarget = 32;
        limits.maxBody = 1000;
    }
    const QByteArray bytes(reinterpret_cast<const char*>(data + 1), qsizetype(size - 1));

    Request request;
    qsizetype headBytes = -1;
    Error error;
    const HeadResult result = parseHead(bytes, limits, &request, &headBytes, &error);
    if (result == HeadResult::Failed) {
        if (error.status < 400 || error.status > 599 || error.message.isEmpty())
            std::abort();
    }
    if (result == HeadResult::Done) {
        if (headBytes <= 0 || headBytes > bytes.size() || headBytes > limits.maxHead)
            std::abort();
        if (request.contentLength < 0 || request.contentLength > limits.maxBody)
            std::abort();
        if (!request.target.contains(request.path) || !request.path.startsWith('/')
            || request.headers.size() > limits.maxHeaders)
            std::abort();
        // The path is the target's: up to '?' or '#', after the authority of an absolute-form target.
        QByteArrayView rest = request.target;
        for (const char* scheme : { "http://", "https://" }) {
            const QByteArrayView sv(scheme);
            if (rest.size() > sv.size() && rest.first(sv.size()).compare(sv, Qt::CaseInsensitive) == 0) {
                qsizetype i = sv.size();
                while (i < rest.size() && rest[i] != '/' && rest[i] != '?' && rest[i] != '#')
                    ++i;
                rest = i < rest.size() && rest[i] == '/' ? rest.sliced(i) : QByteArrayView("/");
                break;
            }
        }
        qsizetype end = 0;
        while (end < rest.size() && rest[end] != '?' && rest[end] != '#')
            ++end;
        if (request.path != rest.first(end).toByteArray())
            std::abort();
        // The head alone reads the same; one byte less is never a whole head.
        Request again;
        qsizetype againBytes = -1;
        Error againError;
        if (parseHead(bytes.first(headBytes), limits, &again, &againBytes, &againError) != HeadResult::Done
            || againBytes != headBytes || again.target != request.target || again.headers != request.headers
            || again.contentLength != request.contentLength || again.keepAlive != request.keepAlive)
            std::abort();
        if (parseHead(bytes.first(headBytes - 1), limits, &again, &againBytes, &againError) == HeadResult::Done)
            std::abort();

        // What follows the head, as a multipart body under the request's own Content-Type.
        const QByteArray body = bytes.mid(headBytes);
        QByteArray field;
        bool found = false;
        QString multipartError;
        const QByteArray type = request.header("content-type");
        if (multipartField(body, type.isEmpty() ? QByteArray("multipart/form-data; boundary=b") : type, "image", &field,
                &found, &multipartError)) {
            if (found && (field.size() > body.size() || !body.contains(field)))
                std::abort();
        } else if (multipartError.isEmpty()) {
            std::abort();
        }
    }
    return 0;
}
