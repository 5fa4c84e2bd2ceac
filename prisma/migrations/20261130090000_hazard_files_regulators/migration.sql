-- Issue #3: hazard location and 治理方案, extension requests, stored files (photos), regulator scopes,
-- check-record location. Drafted with scripts/draft-migration.ts; checked by the drift test.

-- AlterTable
ALTER TABLE `Hazard` ADD COLUMN `latitude` DECIMAL(10, 7) NULL,
    ADD COLUMN `longitude` DECIMAL(10, 7) NULL,
    ADD COLUMN `plan` JSON NULL;

-- AlterTable
ALTER TABLE `CheckRecord` ADD COLUMN `latitude` DECIMAL(10, 7) NULL,
    ADD COLUMN `longitude` DECIMAL(10, 7) NULL;

-- CreateTable
CREATE TABLE `HazardExtension` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `hazardId` INTEGER NOT NULL,
    `requestedById` INTEGER NOT NULL,
    `fromDeadlineDate` CHAR(10) NULL,
    `requestedDate` CHAR(10) NOT NULL,
    `reason` VARCHAR(1024) NOT NULL,
    `state` VARCHAR(16) NOT NULL DEFAULT 'pending',
    `decidedById` INTEGER NULL,
    `decidedAt` DATETIME(3) NULL,
    `decisionComment` VARCHAR(1024) NULL,
    `createdAt` DATETIME(3) NOT NULL,

    INDEX `HazardExtension_hazardId_state_idx`(`hazardId`, `state`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `StoredFile` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `storageKey` VARCHAR(255) NOT NULL,
    `thumbKey` VARCHAR(255) NULL,
    `mime` VARCHAR(64) NOT NULL,
    `bytes` INTEGER NOT NULL,
    `width` INTEGER NULL,
    `height` INTEGER NULL,
    `sha256` CHAR(64) NOT NULL,
    `originalName` VARCHAR(255) NULL,
    `uploadedById` INTEGER NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `StoredFile_enterpriseId_sha256_idx`(`enterpriseId`, `sha256`),
    INDEX `StoredFile_uploadedById_idx`(`uploadedById`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `RegulatorScope` (
    `personId` INTEGER NOT NULL,
    `enterpriseId` INTEGER NOT NULL,

    INDEX `RegulatorScope_enterpriseId_idx`(`enterpriseId`),
    PRIMARY KEY (`personId`, `enterpriseId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- AddForeignKey
ALTER TABLE `HazardExtension` ADD CONSTRAINT `HazardExtension_hazardId_fkey` FOREIGN KEY (`hazardId`) REFERENCES `Hazard`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `StoredFile` ADD CONSTRAINT `StoredFile_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `RegulatorScope` ADD CONSTRAINT `RegulatorScope_personId_fkey` FOREIGN KEY (`personId`) REFERENCES `Person`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `RegulatorScope` ADD CONSTRAINT `RegulatorScope_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
