"""Reads feed files the way real clients do and prints what they saw as JSON (one object per file).

Run with Debian's /usr/bin/python3: feedparser (python3-feedparser) gives the reader's view,
xml.etree gives a strict XML parser's view (for markup injected where text belongs, RFC 5005
elements, and the Atom rules RFC 4287's schema leaves to Schematron).
"""
import html.parser
import json
import re
import sys
import xml.etree.ElementTree as ET

import feedparser

ATOM = '{http://www.w3.org/2005/Atom}'
FH_ARCHIVE = '{http://purl.org/syndication/history/1.0}archive'
XML_LANG = '{http://www.w3.org/XML/1998/namespace}lang'
RFC3339 = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$')


class TagCollector(html.parser.HTMLParser):
    """Collects the start tags and the text of an HTML fragment."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def html_view(fragment):
    collector = TagCollector()
    collector.feed(fragment or '')
    collector.close()
    return {'tags': collector.tags, 'text': ''.join(collector.text)}


def element_view(element):
    """Text and child element names of an element, as a strict XML parser reads it."""
    if element is None:
        return None
    return {'text': element.text or '', 'children': [child.tag for child in element], 'type': element.get('type')}


def atom_problems(root):
    problems = []
    entries = root.findall(ATOM + 'entry')
    feed_author = root.find(ATOM + 'author') is not None
    for element in root.iter():
        if element.tag == ATOM + 'id' and not (element.text or '').strip():
            problems.append('empty atom:id')
        if element.tag in (ATOM + 'updated', ATOM + 'published') and not RFC3339.match(element.text or ''):
            problems.append('timestamp without zone or not RFC 3339: %r' % element.text)
    for entry in entries:
        if not feed_author and entry.find(ATOM + 'author') is None:
            problems.append('entry without author in a feed without author')
        has_alternate = any(link.get('rel', 'alternate') == 'alternate' for link in entry.findall(ATOM + 'link'))
        if entry.find(ATOM + 'content') is None and not has_alternate:
            problems.append('entry without content or alternate link')
    return problems


def xml_view(path):
    root = ET.parse(path).getroot()
    if root.tag == ATOM + 'feed':
        head, entry_tag, title_tag, summary_tag = root, ATOM + 'entry', ATOM + 'title', ATOM + 'summary'
        problems = atom_problems(root)
    else:
        head, entry_tag, title_tag, summary_tag = root.find('channel'), 'item', 'title', 'description'
        problems = []
    entries = [
        {'title': element_view(entry.find(title_tag)), 'summary': element_view(entry.find(summary_tag))}
        for entry in head.findall(entry_tag)
    ]
    return {
        'root': root.tag,
        'lang': root.get(XML_LANG),
        'archive': head.find(FH_ARCHIVE) is not None,
        'problems': problems,
        'entries': entries,
    }


def detail(entry, name):
    value = entry.get(name + '_detail') or {}
    return {'value': value.get('value'), 'type': value.get('type')}


def feedparser_view(path):
    parsed = feedparser.parse(path, sanitize_html=False, resolve_relative_uris=False)
    entries = []
    for entry in parsed.entries:
        content = (entry.get('content') or [{}])[0]
        title = detail(entry, 'title')
        entries.append({
            'id': entry.get('id'),
            'title': title,
            'titleHtml': html_view(title['value']) if title['type'] == 'text/html' else None,
            'link': entry.get('link'),
            'published': entry.get('published'),
            'publishedParsed': list(entry.published_parsed[:6]) if entry.get('published_parsed') else None,
            'updated': entry.get('updated'),
            'updatedParsed': list(entry.updated_parsed[:6]) if entry.get('updated_parsed') else None,
            'summary': detail(entry, 'summary'),
            'summaryHtml': html_view(entry.get('summary')),
            'content': {'value': content.get('value'), 'type': content.get('type')},
            'contentHtml': html_view(content.get('value')),
            'author': entry.get('author'),
            'tags': [tag.get('term') for tag in entry.get('tags', [])],
        })
    feed = parsed.feed
    return {
        'bozo': int(bool(parsed.bozo)),
        'bozoException': str(parsed.get('bozo_exception')) if parsed.bozo else None,
        'version': parsed.get('version'),
        'feed': {
            'title': feed.get('title'),
            'language': feed.get('language'),
            'updated': feed.get('updated'),
            'updatedParsed': list(feed.updated_parsed[:6]) if feed.get('updated_parsed') else None,
            'links': [{'rel': link.get('rel'), 'href': link.get('href'), 'type': link.get('type')} for link in feed.get('links', [])],
        },
        'entries': entries,
    }


def main(paths):
    out = []
    for path in paths:
        view = {'file': path, 'reader': feedparser_view(path)}
        try:
            view['xml'] = xml_view(path)
        except ET.ParseError as error:
            view['xml'] = {'error': str(error)}
        out.append(view)
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == '__main__':
    main(sys.argv[1:])
