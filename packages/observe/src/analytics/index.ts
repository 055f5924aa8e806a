export {
  type AgentReport,
  type LeaderboardQuery,
  type OrgSummary,
  type ReportRange,
  SpendAnalytics,
} from './spend-analytics.js';
