// The official worker library ships no types; the tests use it as a black box.
declare module 'camunda-external-task-client-js' {
  export const Client: any;
  export const Variables: any;
  export const BasicAuthInterceptor: any;
  export const logger: any;
}
