// dmn-moddle 12 and @bpmn-io/dmn-migrate ship no types; this is the part the DMN engine uses.
declare module 'dmn-moddle' {
  export interface DmnParseResult {
    rootElement: Record<string, any>;
    warnings: { message: string; element?: { id?: string } }[];
  }
  export class DmnModdle {
    constructor(packages?: Record<string, unknown>, options?: Record<string, unknown>);
    fromXML(xml: string, typeName?: string): Promise<DmnParseResult>;
  }
}

declare module '@bpmn-io/dmn-migrate' {
  /** Returns the diagram as DMN 1.3 XML (DMN 1.1 and 1.2 are migrated, 1.3 is returned as is). */
  export function migrateDiagram(xml: string): Promise<string>;
}
