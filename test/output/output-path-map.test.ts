import { describe, expect, it } from 'vitest';
import { OutputPathMap } from '../../src/output/output-path-map.js';

describe('OutputPathMap', () => {
  it('holds article pages by article id and every other file by path', () => {
    const map = OutputPathMap.of([
      ['articles/talks-resume.html', 'k1'],
      ['index.html', 'k2'],
      ['archive/feed-1.xml', 'k3'],
      // Not an article page: another kind of file in the folder, or one in a folder below it.
      ['articles/notes.txt', 'k4'],
      ['articles/old/page.html', 'k5'],
    ]);
    expect([...map.articlePages]).toEqual([['talks-resume', 'k1']]);
    expect([...map.others.keys()]).toEqual(['index.html', 'archive/feed-1.xml', 'articles/notes.txt', 'articles/old/page.html']);
    expect(map.get('articles/talks-resume.html')).toBe('k1');
    expect(map.get('articles/old/page.html')).toBe('k5');
    expect(map.has('articles/other.html')).toBe(false);
    expect(map.has('talks-resume')).toBe(false);
    for (const [path, key] of [
      ['index.html', 'k2'],
      ['archive/feed-1.xml', 'k3'],
      ['articles/notes.txt', 'k4'],
    ]) {
      expect(map.get(path as string), path).toBe(key);
    }
  });

  it('copies apart: a change to the copy leaves the original as it was', () => {
    const map = OutputPathMap.of([
      ['articles/a.html', 'k1'],
      ['index.html', 'k2'],
    ]);
    const copy = map.copy().set('articles/a.html', '').set('index.html', '');
    expect(copy.get('articles/a.html')).toBe('');
    expect(map.get('articles/a.html')).toBe('k1');
    expect(map.get('index.html')).toBe('k2');
  });

  it('lists existing files by the same rule', () => {
    const listing = OutputPathMap.of([
      ['articles/a.html', true],
      ['style.css', true],
    ]);
    expect(listing.articlePages.has('a')).toBe(true);
    expect(listing.has('style.css')).toBe(true);
    expect(listing.has('articles/b.html')).toBe(false);
  });
});
