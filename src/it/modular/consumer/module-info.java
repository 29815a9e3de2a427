/** A user of the library on the module path: it requires the library's module and nothing of its insides. */
module org.webpolicy.modular {
    requires org.webpolicy;
}
