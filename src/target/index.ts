// Targets: where a conformance or load run points.
export { freePort, freeSocketPath, formatAddress, parseTarget, canConnect, LOOPBACK, type Address, type TcpAddress, type UnixAddress } from './address.js';
export { type ConnEvent, type RawConnection, waitForEvent, nextEvent } from './connection.js';
export { TcpConnection } from './tcp-connection.js';
export { VirtualServer, VirtualConnection, virtualTarget } from './virtual.js';
export { spawnServer, spawnBeanstalkd, findBeanstalkd, type SpawnedServer } from './spawn.js';
export { startEmbedded, embeddedTarget, type EmbeddedServer } from './embedded.js';
export { checkSpawnCommand, embeddedArgs, faultArg, replayArgs, targetLabel, TargetError, type TargetSpec } from './spec.js';
export { sessionsFor, sessionsLabel } from './sessions-for.js';
export { embeddedCommand, openTarget, type OpenTarget } from './open.js';
export { shellQuote } from './shell.js';
export {
  TcpSession,
  beanstalkdTarget,
  spawnTarget,
  addressTarget,
  type Session,
  type TargetFactory,
  type ServerSettings,
} from './sessions.js';
