// Entry of the dashboard page (`/`).
import './colony-dashboard.js';
