// The properties panel and Camunda's modelling behaviours ship without type declarations:
// each export is a diagram-js module declaration.
declare module 'bpmn-js-properties-panel' {
  type ModuleDeclaration = Record<string, unknown>;
  export const BpmnPropertiesPanelModule: ModuleDeclaration;
  export const BpmnPropertiesProviderModule: ModuleDeclaration;
  export const CamundaPlatformPropertiesProviderModule: ModuleDeclaration;
}
declare module 'camunda-bpmn-js-behaviors/lib/camunda-platform' {
  const module: Record<string, unknown>;
  export default module;
}
// dmn-js ships without type declarations: the part of its Modeler the DMN page uses.
declare module 'dmn-js/lib/Modeler' {
  export interface View { id: string; name?: string; type: 'drd' | 'decisionTable' | 'literalExpression' | 'boxedExpression'; element: unknown }
  interface DrgElement { id: string; name?: string; $type: string }
  export default class DmnModeler {
    constructor(options: Record<string, unknown>);
    importXML(xml: string): Promise<{ warnings: unknown[] }>;
    saveXML(options?: { format?: boolean }): Promise<{ xml?: string }>;
    getViews(): View[];
    getActiveView(): View | null;
    open(view: View): Promise<unknown>;
    getDefinitions(): { id: string; drgElement?: DrgElement[] } | undefined;
    getActiveViewer(): { get<T>(name: string): T } | undefined;
    on(event: string, fn: (e: any) => void): void;
  }
}
