/**
 * The data report.html hands its script: the `<script type="application/json" id="report-data">` block that
 * report-html.ts writes and client.ts reads. Types only, shared by both sides (Node and the browser).
 */

/** One failure cause as the script sees it. */
export interface ReportGroupData {
  key: string;
  /** The status shown in the table's chip ('(none)' when the records had none). */
  status: string;
  label: string;
  title: string;
  signature: string;
  /** The class that gives the chip its colour (`tone-<hex>`, a rule of the page's stylesheet). */
  tone: string;
  /** Every affected instance, in archive order (the page renders only the first ones into its HTML). */
  ids: string[];
  /** `[instance id, its own error line]` for the instances whose line the summary kept. */
  errors: [id: string, error: string][];
}

export interface ReportData {
  groups: ReportGroupData[];
  /** Every resource to re-run (the "Copy all ids" button copies them all). */
  retry: string[];
}
