export { type PaymentRefunds, RefundBook, type RefundBookOptions } from './refund-book.js';
