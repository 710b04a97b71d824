// The one object handlers and jobs get everything from; built once in app.ts (never module singletons).
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { DeployQueues } from '../jobs/queues.js';
import type { Config } from './core/config.js';
import type { DeployService } from './deploys/deploy-service.js';
import type { DeployStore } from './deploys/deploy-store.js';
import type { GateService } from './gates/gate-service.js';
import type { GithubClient } from './github/client.js';
import type { GithubDeployments } from './github/deployments.js';
import type { Logger } from './core/logger.js';
import type { Masker } from './core/mask.js';
import type { RoleDirectory } from './gates/roles.js';
import type { StatusMessenger } from './slack/status-message.js';
import type { Delivery } from './notify/delivery.js';
import type { Notifier } from './notify/notifier.js';
import type { Versions } from './versions/versions.js';
import type { FlagService } from './flags/flag-service.js';
import type { ReleaseService } from './releases/release-service.js';

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
  deploys: DeployService;
  gates: GateService;
  /** Everything Shipmate says in Slack goes through it (src/notify/delivery.ts). */
  delivery: Delivery;
  /** Stakeholder notices, announcements and follow-ups (src/notify/notifier.ts). */
  notifier: Notifier;
  /** Redis key prefix for everything Shipmate stores (BullMQ queues included). */
  prefix: string;
  now: () => number;
  /** What every step and check starts from: the safe base, `passEnv` and `secrets` (baseStepEnv), never the whole process environment. */
  stepEnv: NodeJS.ProcessEnv;
  /** Which repository each environment's versions come from, and the resolver that reads it. */
  versions: Versions;
  /** GitHub, when GITHUB_TOKEN and an owner/name `repository` are set; undefined otherwise (GitHub features say they are off). */
  github?: GithubClient;
  /** Keeps GitHub Deployments in step with deploys (no-op for environments without githubDeployment). */
  githubDeployments: GithubDeployments;
  /** Feature flags: changes from Slack, evaluation for the OFREP routes (src/flags). */
  flags: FlagService;
  /** /release and /hotfix (src/releases/release-service.ts). */
  releases: ReleaseService;
}

/** What the deploy and gate services use; they are built before `Deps` exists, so they take this part of it. */
export type ServiceDeps = Pick<Deps, 'config' | 'store' | 'queues' | 'messenger' | 'delivery' | 'roles' | 'slack' | 'redis' | 'prefix' | 'log' | 'now' | 'stepEnv' | 'notifier' | 'versions' | 'github' | 'githubDeployments'>;
