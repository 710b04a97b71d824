// The one object handlers and jobs get everything from; built once in app.ts (never module singletons).
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { DeployQueues } from '../jobs/queues.js';
import type { Config } from './core/config.js';
import type { DeployService } from './deploys/deploy-service.js';
import type { DeployStore } from './deploys/deploy-store.js';
import type { GateService } from './gates/gate-service.js';
import type { Logger } from './core/logger.js';
import type { Masker } from './core/mask.js';
import type { RoleDirectory } from './gates/roles.js';
import type { StatusMessenger } from './slack/status-message.js';
import type { Delivery } from './notify/delivery.js';

export interface Deps {
  config: Config;
  log: Logger;
  redis: Redis;
  store: DeployStore;
  queues: DeployQueues;
  slack: WebClient;
  roles: RoleDirectory;
  mask: Masker;
  messenger: StatusMessenger;
  /** The one way anything is said in Slack: queued, retried, never lost or doubled (src/notify/delivery.ts). */
  delivery: Delivery;
  deploys: DeployService;
  gates: GateService;
  /** Redis key prefix for everything Shipmate stores (BullMQ queues included). */
  prefix: string;
  now: () => number;
  /** What every step and check starts from: the safe base, `passEnv` and `secrets` (baseStepEnv), never the whole process environment. */
  stepEnv: NodeJS.ProcessEnv;
}

/** What the deploy and gate services use; they are built before `Deps` exists, so they take this part of it. */
export type ServiceDeps = Pick<Deps, 'config' | 'store' | 'queues' | 'messenger' | 'delivery' | 'roles' | 'slack' | 'redis' | 'prefix' | 'log' | 'now' | 'stepEnv'>;
