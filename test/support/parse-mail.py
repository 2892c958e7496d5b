"""Parses .eml files with Python's standard email package (an independent MIME parser) and prints
one JSON object per file: decoded headers, addresses, defects, and the decoded text of each part."""
import email
import json
import os
import sys
from email import policy

result = []
for path in sys.argv[1:]:
    with open(path, 'rb') as handle:
        raw = handle.read()
    try:
        # RFC 6532: headers may carry UTF-8 (an SMTPUTF8 address); read them as such.
        message = email.message_from_string(raw.decode('utf-8'), policy=policy.default)
    except UnicodeDecodeError:
        message = email.message_from_bytes(raw, policy=policy.default)
    defects = [type(defect).__name__ for defect in message.defects]
    headers = {}
    for name, value in message.items():
        headers.setdefault(name.lower(), []).append(str(value))
    addresses = {}
    for name in ('from', 'to', 'reply-to'):
        if message[name] is not None:
            addresses[name] = [{'name': a.display_name, 'address': a.addr_spec} for a in message[name].addresses]
            defects += [type(defect).__name__ for defect in message[name].defects]
    parts = []
    for part in message.walk():
        defects += [type(defect).__name__ for defect in part.defects]
        if part.is_multipart():
            continue
        parts.append({
            'type': part.get_content_type(),
            'charset': part.get_content_charset(),
            'encoding': part.get('Content-Transfer-Encoding'),
            'content': part.get_content(),
        })
    lines = raw.split(b'\r\n')
    result.append({
        'file': os.path.basename(path),
        'type': message.get_content_type(),
        'headers': headers,
        'addresses': addresses,
        'defects': defects,
        'parts': parts,
        'maxLineLength': max(len(line) for line in lines),
        'bareLineFeeds': raw.count(b'\n') - raw.count(b'\r\n'),
    })
json.dump(result, sys.stdout)
