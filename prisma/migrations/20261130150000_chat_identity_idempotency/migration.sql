-- Issues #4/#5: the chat identity map, one-time binding codes, subscribe-message consents, and
-- client idempotency keys for hazard reports and check records (offline queue: sent once, stored once).
-- Drafted with scripts/draft-migration.ts; checked by the drift test.

-- AlterTable
ALTER TABLE `Hazard` ADD COLUMN `clientRequestId` VARCHAR(64) NULL;

-- AlterTable
ALTER TABLE `CheckRecord` ADD COLUMN `clientRequestId` VARCHAR(64) NULL;

-- CreateIndex
CREATE UNIQUE INDEX `Hazard_enterpriseId_clientRequestId_key` ON `Hazard`(`enterpriseId`, `clientRequestId`);

-- CreateIndex
CREATE UNIQUE INDEX `CheckRecord_enterpriseId_clientRequestId_key` ON `CheckRecord`(`enterpriseId`, `clientRequestId`);

-- CreateTable
CREATE TABLE `ChatIdentity` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `personId` INTEGER NOT NULL,
    `platform` VARCHAR(16) NOT NULL,
    `externalId` VARCHAR(128) NOT NULL,
    `displayName` VARCHAR(128) NULL,
    `via` VARCHAR(24) NOT NULL,
    `boundAt` DATETIME(3) NOT NULL,

    INDEX `ChatIdentity_personId_idx`(`personId`),
    UNIQUE INDEX `ChatIdentity_platform_externalId_key`(`platform`, `externalId`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `BindingCode` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `personId` INTEGER NOT NULL,
    `code` CHAR(6) NOT NULL,
    `expiresAt` DATETIME(3) NOT NULL,
    `usedAt` DATETIME(3) NULL,
    `usedByPlatform` VARCHAR(16) NULL,
    `usedByExternalId` VARCHAR(128) NULL,
    `createdAt` DATETIME(3) NOT NULL,

    INDEX `BindingCode_code_expiresAt_idx`(`code`, `expiresAt`),
    INDEX `BindingCode_personId_idx`(`personId`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `SubscribeConsent` (
    `personId` INTEGER NOT NULL,
    `templateId` VARCHAR(64) NOT NULL,
    `remaining` INTEGER NOT NULL DEFAULT 0,
    `updatedAt` DATETIME(3) NOT NULL,

    PRIMARY KEY (`personId`, `templateId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- AddForeignKey
ALTER TABLE `ChatIdentity` ADD CONSTRAINT `ChatIdentity_personId_fkey` FOREIGN KEY (`personId`) REFERENCES `Person`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `BindingCode` ADD CONSTRAINT `BindingCode_personId_fkey` FOREIGN KEY (`personId`) REFERENCES `Person`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `SubscribeConsent` ADD CONSTRAINT `SubscribeConsent_personId_fkey` FOREIGN KEY (`personId`) REFERENCES `Person`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
