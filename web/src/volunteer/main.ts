// Entry of the volunteer page (`/volunteer`).
import './colony-volunteer.js';
