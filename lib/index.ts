export * from './aws';
