/*
 * The board's state shared by its modules: the officer's language, who is signed in, the
 * view on screen. One object, so that every module reads and writes the same values.
 */

/** Where the officer's language choice is remembered (this browser). */
export var LANG_KEY = 'canh.lang';

function storedLang() {
  try {
    var l = window.localStorage.getItem(LANG_KEY);
    return l === 'en' ? 'en' : 'vi';
  } catch (e) {
    return 'vi';
  }
}

export var session = {
  lang: storedLang(),
  me: null, // {role, name}
  view: null, // current view: {name, root, refresh(), destroy(), minInterval, wants(update)}
  /** Bumped at every navigation: answers for an older view are dropped. */
  viewGen: 0,
  /** Where the officer was going when the login page came up (a shared link to a host). */
  afterLogin: '#/',
};
