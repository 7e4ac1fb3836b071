/** The domain types every stage shares. Depends on no stage. */
export type * from './roles.js'
export type * from './finding.js'
export type * from './warning.js'
export * from './endpoint.js'
export * from './timeline.js'
