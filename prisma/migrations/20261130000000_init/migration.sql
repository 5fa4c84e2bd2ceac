-- CreateTable
CREATE TABLE `Enterprise` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `companyCode` VARCHAR(32) NOT NULL,
    `name` VARCHAR(128) NOT NULL,
    `timezone` VARCHAR(64) NOT NULL DEFAULT 'Asia/Shanghai',
    `park` VARCHAR(128) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    UNIQUE INDEX `Enterprise_companyCode_key`(`companyCode`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `Department` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `code` VARCHAR(64) NOT NULL,
    `name` VARCHAR(128) NOT NULL,
    `parentId` INTEGER NULL,
    `headPersonId` INTEGER NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `Department_parentId_idx`(`parentId`),
    INDEX `Department_headPersonId_idx`(`headPersonId`),
    UNIQUE INDEX `Department_enterpriseId_code_key`(`enterpriseId`, `code`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `Post` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `code` VARCHAR(64) NOT NULL,
    `name` VARCHAR(128) NOT NULL,
    `departmentId` INTEGER NULL,
    `leaderPostId` INTEGER NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `Post_departmentId_idx`(`departmentId`),
    INDEX `Post_leaderPostId_idx`(`leaderPostId`),
    UNIQUE INDEX `Post_enterpriseId_code_key`(`enterpriseId`, `code`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `Person` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `code` VARCHAR(64) NOT NULL,
    `name` VARCHAR(64) NOT NULL,
    `postId` INTEGER NULL,
    `departmentId` INTEGER NULL,
    `mobile` VARCHAR(32) NULL,
    `wecomUserId` VARCHAR(64) NULL,
    `dingtalkUserId` VARCHAR(64) NULL,
    `wechatOpenId` VARCHAR(64) NULL,
    `roles` JSON NOT NULL,
    `active` BOOLEAN NOT NULL DEFAULT true,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `Person_postId_idx`(`postId`),
    INDEX `Person_departmentId_idx`(`departmentId`),
    INDEX `Person_enterpriseId_mobile_idx`(`enterpriseId`, `mobile`),
    INDEX `Person_enterpriseId_wecomUserId_idx`(`enterpriseId`, `wecomUserId`),
    INDEX `Person_enterpriseId_dingtalkUserId_idx`(`enterpriseId`, `dingtalkUserId`),
    INDEX `Person_enterpriseId_wechatOpenId_idx`(`enterpriseId`, `wechatOpenId`),
    UNIQUE INDEX `Person_enterpriseId_code_key`(`enterpriseId`, `code`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `ApiToken` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `personId` INTEGER NOT NULL,
    `tokenHash` CHAR(64) NOT NULL,
    `label` VARCHAR(64) NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `lastUsedAt` DATETIME(3) NULL,
    `revokedAt` DATETIME(3) NULL,

    UNIQUE INDEX `ApiToken_tokenHash_key`(`tokenHash`),
    INDEX `ApiToken_personId_idx`(`personId`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `Setting` (
    `key` VARCHAR(64) NOT NULL,
    `value` TEXT NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `CalendarOverride` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `date` CHAR(10) NOT NULL,
    `isWorkday` BOOLEAN NOT NULL,
    `note` VARCHAR(128) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    UNIQUE INDEX `CalendarOverride_enterpriseId_date_key`(`enterpriseId`, `date`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `MajorHazardSource` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `code` VARCHAR(64) NOT NULL,
    `name` VARCHAR(128) NOT NULL,
    `hazardCode` VARCHAR(64) NOT NULL,
    `level` INTEGER NOT NULL,
    `rValue` DECIMAL(10, 2) NULL,
    `principalId` INTEGER NULL,
    `technicalId` INTEGER NULL,
    `operationalId` INTEGER NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `MajorHazardSource_principalId_idx`(`principalId`),
    INDEX `MajorHazardSource_technicalId_idx`(`technicalId`),
    INDEX `MajorHazardSource_operationalId_idx`(`operationalId`),
    UNIQUE INDEX `MajorHazardSource_enterpriseId_code_key`(`enterpriseId`, `code`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `RiskObject` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `code` VARCHAR(64) NOT NULL,
    `name` VARCHAR(128) NOT NULL,
    `hazardCode` VARCHAR(64) NULL,
    `type` VARCHAR(64) NOT NULL,
    `majorHazardSourceId` INTEGER NULL,
    `departmentId` INTEGER NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `RiskObject_majorHazardSourceId_idx`(`majorHazardSourceId`),
    INDEX `RiskObject_departmentId_idx`(`departmentId`),
    UNIQUE INDEX `RiskObject_enterpriseId_code_key`(`enterpriseId`, `code`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `RiskUnit` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `riskObjectId` INTEGER NOT NULL,
    `code` VARCHAR(64) NOT NULL,
    `name` VARCHAR(128) NOT NULL,
    `departmentId` INTEGER NULL,
    `headPersonId` INTEGER NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `RiskUnit_riskObjectId_idx`(`riskObjectId`),
    INDEX `RiskUnit_departmentId_idx`(`departmentId`),
    INDEX `RiskUnit_headPersonId_idx`(`headPersonId`),
    UNIQUE INDEX `RiskUnit_enterpriseId_code_key`(`enterpriseId`, `code`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `RiskUnitShutdown` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `riskUnitId` INTEGER NOT NULL,
    `startAt` DATETIME(3) NOT NULL,
    `endAt` DATETIME(3) NULL,
    `reason` VARCHAR(255) NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `RiskUnitShutdown_riskUnitId_startAt_idx`(`riskUnitId`, `startAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `RiskEvent` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `riskUnitId` INTEGER NOT NULL,
    `code` VARCHAR(64) NOT NULL,
    `name` VARCHAR(128) NOT NULL,
    `description` TEXT NULL,
    `l0` INTEGER NOT NULL,
    `s0` INTEGER NOT NULL,
    `l` INTEGER NOT NULL,
    `s` INTEGER NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `RiskEvent_riskUnitId_idx`(`riskUnitId`),
    UNIQUE INDEX `RiskEvent_enterpriseId_code_key`(`enterpriseId`, `code`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `ControlMeasure` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `riskEventId` INTEGER NOT NULL,
    `code` VARCHAR(64) NOT NULL,
    `description` VARCHAR(512) NOT NULL,
    `dataSrc` INTEGER NOT NULL,
    `classify1` INTEGER NOT NULL,
    `classify2` VARCHAR(8) NOT NULL,
    `classify3` VARCHAR(128) NULL,
    `checkContent` VARCHAR(512) NULL,
    `paramName` VARCHAR(64) NULL,
    `paramUnit` VARCHAR(16) NULL,
    `paramMin` DECIMAL(14, 4) NULL,
    `paramMax` DECIMAL(14, 4) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `ControlMeasure_riskEventId_idx`(`riskEventId`),
    UNIQUE INDEX `ControlMeasure_enterpriseId_code_key`(`enterpriseId`, `code`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `CheckTask` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `code` VARCHAR(64) NOT NULL,
    `controlMeasureId` INTEGER NULL,
    `majorHazardSourceId` INTEGER NULL,
    `content` VARCHAR(512) NOT NULL,
    `checkCycle` INTEGER NOT NULL,
    `checkCycleUnit` VARCHAR(8) NOT NULL,
    `taskStartTime` DATETIME(3) NOT NULL,
    `workStartTime` VARCHAR(5) NULL,
    `workEndTime` VARCHAR(5) NULL,
    `workDayType` INTEGER NOT NULL DEFAULT 0,
    `workType` INTEGER NOT NULL DEFAULT 0,
    `taskNum` INTEGER NULL,
    `postId` INTEGER NULL,
    `personId` INTEGER NULL,
    `checkMeans` VARCHAR(16) NOT NULL,
    `enabled` BOOLEAN NOT NULL DEFAULT true,
    `activeFrom` DATETIME(3) NOT NULL,
    `generatedUntil` DATETIME(3) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `CheckTask_controlMeasureId_idx`(`controlMeasureId`),
    INDEX `CheckTask_majorHazardSourceId_idx`(`majorHazardSourceId`),
    INDEX `CheckTask_postId_idx`(`postId`),
    INDEX `CheckTask_personId_idx`(`personId`),
    INDEX `CheckTask_enabled_generatedUntil_idx`(`enabled`, `generatedUntil`),
    UNIQUE INDEX `CheckTask_enterpriseId_code_key`(`enterpriseId`, `code`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `CheckTaskInstance` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `checkTaskId` INTEGER NOT NULL,
    `startAt` DATETIME(3) NOT NULL,
    `endAt` DATETIME(3) NOT NULL,
    `state` VARCHAR(16) NOT NULL DEFAULT 'pending',
    `nextCheckAt` DATETIME(3) NULL,
    `completedAt` DATETIME(3) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `CheckTaskInstance_nextCheckAt_idx`(`nextCheckAt`),
    INDEX `CheckTaskInstance_enterpriseId_state_endAt_idx`(`enterpriseId`, `state`, `endAt`),
    UNIQUE INDEX `CheckTaskInstance_checkTaskId_startAt_key`(`checkTaskId`, `startAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `CheckRecord` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `instanceId` INTEGER NOT NULL,
    `personId` INTEGER NOT NULL,
    `checkedAt` DATETIME(3) NOT NULL,
    `deviceId` VARCHAR(64) NULL,
    `isDefend` BOOLEAN NOT NULL DEFAULT false,
    `result` INTEGER NOT NULL,
    `note` VARCHAR(512) NULL,
    `photos` JSON NULL,
    `location` VARCHAR(128) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `CheckRecord_instanceId_idx`(`instanceId`),
    INDEX `CheckRecord_personId_idx`(`personId`),
    INDEX `CheckRecord_enterpriseId_checkedAt_idx`(`enterpriseId`, `checkedAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `CheckReading` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `checkRecordId` INTEGER NOT NULL,
    `controlMeasureId` INTEGER NOT NULL,
    `paramName` VARCHAR(64) NOT NULL,
    `unit` VARCHAR(16) NULL,
    `value` DECIMAL(14, 4) NOT NULL,
    `safeMin` DECIMAL(14, 4) NULL,
    `safeMax` DECIMAL(14, 4) NULL,
    `abnormal` BOOLEAN NOT NULL,

    INDEX `CheckReading_checkRecordId_idx`(`checkRecordId`),
    INDEX `CheckReading_controlMeasureId_idx`(`controlMeasureId`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `Hazard` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `code` VARCHAR(32) NOT NULL,
    `name` VARCHAR(255) NOT NULL,
    `description` TEXT NULL,
    `location` VARCHAR(255) NULL,
    `riskUnitId` INTEGER NULL,
    `controlMeasureId` INTEGER NULL,
    `checkRecordId` INTEGER NULL,
    `dangerLevel` INTEGER NOT NULL DEFAULT 0,
    `dangerSrc` INTEGER NOT NULL,
    `enforcementId` VARCHAR(64) NULL,
    `hazardDangerType` INTEGER NOT NULL,
    `dangerManageType` INTEGER NOT NULL DEFAULT 1,
    `hazardCategory` INTEGER NOT NULL DEFAULT 0,
    `manageClass` INTEGER NULL,
    `majorCriterion` INTEGER NULL,
    `foundAt` DATETIME(3) NOT NULL,
    `reportedAt` DATETIME(3) NOT NULL,
    `cause` TEXT NULL,
    `measures` TEXT NULL,
    `cost` DECIMAL(14, 2) NULL,
    `reporterId` INTEGER NOT NULL,
    `rectifierId` INTEGER NULL,
    `acceptorId` INTEGER NULL,
    `deadlineDate` CHAR(10) NULL,
    `deadlineAt` DATETIME(3) NULL,
    `state` VARCHAR(24) NOT NULL,
    `confirmedAt` DATETIME(3) NULL,
    `rectifiedAt` DATETIME(3) NULL,
    `acceptedAt` DATETIME(3) NULL,
    `acceptComment` VARCHAR(512) NULL,
    `photos` JSON NULL,
    `afterPhotos` JSON NULL,
    `nextCheckAt` DATETIME(3) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `Hazard_nextCheckAt_idx`(`nextCheckAt`),
    INDEX `Hazard_enterpriseId_state_deadlineAt_idx`(`enterpriseId`, `state`, `deadlineAt`),
    INDEX `Hazard_riskUnitId_idx`(`riskUnitId`),
    INDEX `Hazard_controlMeasureId_idx`(`controlMeasureId`),
    INDEX `Hazard_checkRecordId_idx`(`checkRecordId`),
    INDEX `Hazard_reporterId_idx`(`reporterId`),
    INDEX `Hazard_rectifierId_idx`(`rectifierId`),
    INDEX `Hazard_acceptorId_idx`(`acceptorId`),
    UNIQUE INDEX `Hazard_enterpriseId_code_key`(`enterpriseId`, `code`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `HazardTransition` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `hazardId` INTEGER NOT NULL,
    `action` VARCHAR(32) NOT NULL,
    `fromState` VARCHAR(24) NULL,
    `toState` VARCHAR(24) NOT NULL,
    `actorId` INTEGER NOT NULL,
    `comment` VARCHAR(1024) NULL,
    `photos` JSON NULL,
    `data` JSON NULL,
    `at` DATETIME(3) NOT NULL,

    INDEX `HazardTransition_hazardId_at_idx`(`hazardId`, `at`),
    INDEX `HazardTransition_actorId_idx`(`actorId`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `EscalationPolicy` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `kind` VARCHAR(32) NOT NULL,
    `name` VARCHAR(128) NOT NULL,
    `levels` JSON NOT NULL,
    `ackTimeoutMs` INTEGER NOT NULL,
    `params` JSON NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    UNIQUE INDEX `EscalationPolicy_enterpriseId_kind_key`(`enterpriseId`, `kind`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `Alert` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `kind` VARCHAR(32) NOT NULL,
    `subjectType` VARCHAR(24) NOT NULL,
    `subjectId` INTEGER NOT NULL,
    `openKey` VARCHAR(96) NULL,
    `state` VARCHAR(16) NOT NULL,
    `level` INTEGER NOT NULL DEFAULT 0,
    `title` VARCHAR(255) NOT NULL,
    `detail` JSON NOT NULL,
    `policySnapshot` JSON NOT NULL,
    `recipients` JSON NOT NULL,
    `conditionStartAt` DATETIME(3) NOT NULL,
    `nextFireAt` DATETIME(3) NULL,
    `lastNotifiedAt` DATETIME(3) NULL,
    `escalationToken` INTEGER NOT NULL DEFAULT 0,
    `ackedAt` DATETIME(3) NULL,
    `ackedById` INTEGER NULL,
    `ackUntil` DATETIME(3) NULL,
    `handledAt` DATETIME(3) NULL,
    `handledById` INTEGER NULL,
    `handleNote` VARCHAR(1024) NULL,
    `clearedAt` DATETIME(3) NULL,
    `clearedById` INTEGER NULL,
    `clearKind` VARCHAR(24) NULL,
    `clearReason` VARCHAR(1024) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    UNIQUE INDEX `Alert_openKey_key`(`openKey`),
    INDEX `Alert_nextFireAt_idx`(`nextFireAt`),
    INDEX `Alert_enterpriseId_state_createdAt_idx`(`enterpriseId`, `state`, `createdAt`),
    INDEX `Alert_subjectType_subjectId_idx`(`subjectType`, `subjectId`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `AlertEvent` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `alertId` INTEGER NOT NULL,
    `type` VARCHAR(24) NOT NULL,
    `level` INTEGER NULL,
    `actorId` INTEGER NULL,
    `channel` VARCHAR(24) NULL,
    `note` VARCHAR(1024) NULL,
    `data` JSON NULL,
    `at` DATETIME(3) NOT NULL,

    INDEX `AlertEvent_alertId_at_idx`(`alertId`, `at`),
    INDEX `AlertEvent_actorId_idx`(`actorId`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `Notification` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `alertId` INTEGER NOT NULL,
    `alertEventId` INTEGER NULL,
    `level` INTEGER NOT NULL,
    `channel` VARCHAR(24) NOT NULL,
    `destinationId` INTEGER NULL,
    `recipients` JSON NOT NULL,
    `payload` JSON NOT NULL,
    `escalationToken` INTEGER NOT NULL,
    `state` VARCHAR(16) NOT NULL DEFAULT 'pending',
    `attempts` INTEGER NOT NULL DEFAULT 0,
    `nextAttemptAt` DATETIME(3) NOT NULL,
    `enqueuedAt` DATETIME(3) NULL,
    `sentAt` DATETIME(3) NULL,
    `lastError` VARCHAR(1024) NULL,
    `providerMessageId` VARCHAR(128) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `Notification_state_nextAttemptAt_idx`(`state`, `nextAttemptAt`),
    INDEX `Notification_alertId_idx`(`alertId`),
    INDEX `Notification_destinationId_idx`(`destinationId`),
    INDEX `Notification_enterpriseId_createdAt_idx`(`enterpriseId`, `createdAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `ChatDestination` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `enterpriseId` INTEGER NOT NULL,
    `code` VARCHAR(64) NOT NULL,
    `name` VARCHAR(128) NOT NULL,
    `channel` VARCHAR(24) NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    UNIQUE INDEX `ChatDestination_enterpriseId_code_key`(`enterpriseId`, `code`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `ChatDestinationMember` (
    `destinationId` INTEGER NOT NULL,
    `personId` INTEGER NOT NULL,

    INDEX `ChatDestinationMember_personId_idx`(`personId`),
    PRIMARY KEY (`destinationId`, `personId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- AddForeignKey
ALTER TABLE `Department` ADD CONSTRAINT `Department_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Department` ADD CONSTRAINT `Department_parentId_fkey` FOREIGN KEY (`parentId`) REFERENCES `Department`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Department` ADD CONSTRAINT `Department_headPersonId_fkey` FOREIGN KEY (`headPersonId`) REFERENCES `Person`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Post` ADD CONSTRAINT `Post_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Post` ADD CONSTRAINT `Post_departmentId_fkey` FOREIGN KEY (`departmentId`) REFERENCES `Department`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Post` ADD CONSTRAINT `Post_leaderPostId_fkey` FOREIGN KEY (`leaderPostId`) REFERENCES `Post`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Person` ADD CONSTRAINT `Person_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Person` ADD CONSTRAINT `Person_postId_fkey` FOREIGN KEY (`postId`) REFERENCES `Post`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Person` ADD CONSTRAINT `Person_departmentId_fkey` FOREIGN KEY (`departmentId`) REFERENCES `Department`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `ApiToken` ADD CONSTRAINT `ApiToken_personId_fkey` FOREIGN KEY (`personId`) REFERENCES `Person`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `CalendarOverride` ADD CONSTRAINT `CalendarOverride_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `MajorHazardSource` ADD CONSTRAINT `MajorHazardSource_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `MajorHazardSource` ADD CONSTRAINT `MajorHazardSource_principalId_fkey` FOREIGN KEY (`principalId`) REFERENCES `Person`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `MajorHazardSource` ADD CONSTRAINT `MajorHazardSource_technicalId_fkey` FOREIGN KEY (`technicalId`) REFERENCES `Person`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `MajorHazardSource` ADD CONSTRAINT `MajorHazardSource_operationalId_fkey` FOREIGN KEY (`operationalId`) REFERENCES `Person`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `RiskObject` ADD CONSTRAINT `RiskObject_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `RiskObject` ADD CONSTRAINT `RiskObject_majorHazardSourceId_fkey` FOREIGN KEY (`majorHazardSourceId`) REFERENCES `MajorHazardSource`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `RiskObject` ADD CONSTRAINT `RiskObject_departmentId_fkey` FOREIGN KEY (`departmentId`) REFERENCES `Department`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `RiskUnit` ADD CONSTRAINT `RiskUnit_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `RiskUnit` ADD CONSTRAINT `RiskUnit_riskObjectId_fkey` FOREIGN KEY (`riskObjectId`) REFERENCES `RiskObject`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `RiskUnit` ADD CONSTRAINT `RiskUnit_departmentId_fkey` FOREIGN KEY (`departmentId`) REFERENCES `Department`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `RiskUnit` ADD CONSTRAINT `RiskUnit_headPersonId_fkey` FOREIGN KEY (`headPersonId`) REFERENCES `Person`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `RiskUnitShutdown` ADD CONSTRAINT `RiskUnitShutdown_riskUnitId_fkey` FOREIGN KEY (`riskUnitId`) REFERENCES `RiskUnit`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `RiskEvent` ADD CONSTRAINT `RiskEvent_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `RiskEvent` ADD CONSTRAINT `RiskEvent_riskUnitId_fkey` FOREIGN KEY (`riskUnitId`) REFERENCES `RiskUnit`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `ControlMeasure` ADD CONSTRAINT `ControlMeasure_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `ControlMeasure` ADD CONSTRAINT `ControlMeasure_riskEventId_fkey` FOREIGN KEY (`riskEventId`) REFERENCES `RiskEvent`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `CheckTask` ADD CONSTRAINT `CheckTask_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `CheckTask` ADD CONSTRAINT `CheckTask_controlMeasureId_fkey` FOREIGN KEY (`controlMeasureId`) REFERENCES `ControlMeasure`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `CheckTask` ADD CONSTRAINT `CheckTask_majorHazardSourceId_fkey` FOREIGN KEY (`majorHazardSourceId`) REFERENCES `MajorHazardSource`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `CheckTask` ADD CONSTRAINT `CheckTask_postId_fkey` FOREIGN KEY (`postId`) REFERENCES `Post`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `CheckTask` ADD CONSTRAINT `CheckTask_personId_fkey` FOREIGN KEY (`personId`) REFERENCES `Person`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `CheckTaskInstance` ADD CONSTRAINT `CheckTaskInstance_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `CheckTaskInstance` ADD CONSTRAINT `CheckTaskInstance_checkTaskId_fkey` FOREIGN KEY (`checkTaskId`) REFERENCES `CheckTask`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `CheckRecord` ADD CONSTRAINT `CheckRecord_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `CheckRecord` ADD CONSTRAINT `CheckRecord_instanceId_fkey` FOREIGN KEY (`instanceId`) REFERENCES `CheckTaskInstance`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `CheckRecord` ADD CONSTRAINT `CheckRecord_personId_fkey` FOREIGN KEY (`personId`) REFERENCES `Person`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `CheckReading` ADD CONSTRAINT `CheckReading_checkRecordId_fkey` FOREIGN KEY (`checkRecordId`) REFERENCES `CheckRecord`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `CheckReading` ADD CONSTRAINT `CheckReading_controlMeasureId_fkey` FOREIGN KEY (`controlMeasureId`) REFERENCES `ControlMeasure`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Hazard` ADD CONSTRAINT `Hazard_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Hazard` ADD CONSTRAINT `Hazard_riskUnitId_fkey` FOREIGN KEY (`riskUnitId`) REFERENCES `RiskUnit`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Hazard` ADD CONSTRAINT `Hazard_controlMeasureId_fkey` FOREIGN KEY (`controlMeasureId`) REFERENCES `ControlMeasure`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Hazard` ADD CONSTRAINT `Hazard_checkRecordId_fkey` FOREIGN KEY (`checkRecordId`) REFERENCES `CheckRecord`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Hazard` ADD CONSTRAINT `Hazard_reporterId_fkey` FOREIGN KEY (`reporterId`) REFERENCES `Person`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Hazard` ADD CONSTRAINT `Hazard_rectifierId_fkey` FOREIGN KEY (`rectifierId`) REFERENCES `Person`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Hazard` ADD CONSTRAINT `Hazard_acceptorId_fkey` FOREIGN KEY (`acceptorId`) REFERENCES `Person`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `HazardTransition` ADD CONSTRAINT `HazardTransition_hazardId_fkey` FOREIGN KEY (`hazardId`) REFERENCES `Hazard`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `HazardTransition` ADD CONSTRAINT `HazardTransition_actorId_fkey` FOREIGN KEY (`actorId`) REFERENCES `Person`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `EscalationPolicy` ADD CONSTRAINT `EscalationPolicy_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Alert` ADD CONSTRAINT `Alert_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `AlertEvent` ADD CONSTRAINT `AlertEvent_alertId_fkey` FOREIGN KEY (`alertId`) REFERENCES `Alert`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `AlertEvent` ADD CONSTRAINT `AlertEvent_actorId_fkey` FOREIGN KEY (`actorId`) REFERENCES `Person`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Notification` ADD CONSTRAINT `Notification_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Notification` ADD CONSTRAINT `Notification_alertId_fkey` FOREIGN KEY (`alertId`) REFERENCES `Alert`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `Notification` ADD CONSTRAINT `Notification_destinationId_fkey` FOREIGN KEY (`destinationId`) REFERENCES `ChatDestination`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `ChatDestination` ADD CONSTRAINT `ChatDestination_enterpriseId_fkey` FOREIGN KEY (`enterpriseId`) REFERENCES `Enterprise`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `ChatDestinationMember` ADD CONSTRAINT `ChatDestinationMember_destinationId_fkey` FOREIGN KEY (`destinationId`) REFERENCES `ChatDestination`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `ChatDestinationMember` ADD CONSTRAINT `ChatDestinationMember_personId_fkey` FOREIGN KEY (`personId`) REFERENCES `Person`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
