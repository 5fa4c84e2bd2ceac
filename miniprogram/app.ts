/**
 * dualprev 双重预防 mini-program (issue #5): snap a hazard, do a check on site, answer an alert.
 * Pages are built with the Component constructor (testable with miniprogram-simulate) and stay
 * thin; the logic lives in lib/ (runs in Node with `wx` mocked); shared/contract.ts is shared with
 * the server.
 */
import { setUnauthorizedHandler } from './lib/api';
import { deviceId } from './lib/device';
import { fileKeeper } from './lib/media';
import { flushQueue, setPhotoKeeper } from './lib/queue';
import { loadSession } from './lib/session';
import { refreshMpConfig } from './lib/subscribe';
import type { WxPort } from './lib/wx-port';
import { goLogin } from './utils/ui';

// compile-time check: the official API typings satisfy the narrow port lib/ is written against
const port: WxPort = wx;
void port;

/** Sends the queued reports when there is a session (silently: pages show the queue). */
function sendQueued(): void {
  if (loadSession()) flushQueue().catch(() => undefined);
}

App({
  onLaunch() {
    deviceId(); // the per-install id, made on first run
    setPhotoKeeper(fileKeeper);
    setUnauthorizedHandler(goLogin);
    wx.onNetworkStatusChange((r) => {
      if (r.isConnected) sendQueued();
    });
  },
  onShow() {
    sendQueued();
    if (loadSession()) refreshMpConfig().catch(() => undefined);
  },
});
