// The nearest peer that captures forms: Snowplow's browser tracker with its form-tracking plugin, set up as its
// documentation shows. Built by test/bench/bundles.js the way dist/idcapture.js is built.
import { newTracker } from '@snowplow/browser-tracker';
import { FormTrackingPlugin, enableFormTracking } from '@snowplow/browser-plugin-form-tracking';

newTracker('sp', `${location.origin}/collector`, { appId: 'bench', plugins: [FormTrackingPlugin()] });
enableFormTracking();
