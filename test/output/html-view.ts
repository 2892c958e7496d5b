import { parseDocument } from 'htmlparser2';

/** One element of a parsed page: name, attributes and its text content. */
export interface ElementView {
  name: string;
  attributes: Record<string, string>;
  text: string;
  /** Names of the enclosing elements, outermost first. */
  ancestors: string[];
}

type Nodes = ReturnType<typeof parseDocument>['children'];

/** Every element of an HTML document in document order, as an HTML parser reads it. */
export function elementsOf(html: string): ElementView[] {
  const found: ElementView[] = [];
  const textOf = (nodes: Nodes): string =>
    nodes.map((node) => (node.type === 'text' ? node.data : 'children' in node ? textOf(node.children as Nodes) : '')).join('');
  const walk = (nodes: Nodes, ancestors: string[]): void => {
    for (const node of nodes) {
      if ('name' in node && 'attribs' in node) {
        found.push({ name: node.name, attributes: { ...node.attribs }, text: textOf(node.children as Nodes), ancestors });
        walk(node.children as Nodes, [...ancestors, node.name]);
      }
    }
  };
  walk(parseDocument(html).children, []);
  return found;
}

/** The elements named `name`, optionally with these attribute values. */
export function select(elements: ElementView[], name: string, attributes: Record<string, string> = {}): ElementView[] {
  return elements.filter(
    (element) => element.name === name && Object.entries(attributes).every(([key, value]) => element.attributes[key] === value),
  );
}
