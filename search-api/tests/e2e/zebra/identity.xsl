<?xml version="1.0" encoding="UTF-8"?>
<!-- The stored MARCXML record as it is (recordSchema=marcxml), without the indentation
     yaz-marcdump gave it: white space is dropped only between the elements of a record and
     of a data field, never inside a control field or subfield. -->
<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:marc="http://www.loc.gov/MARC21/slim" version="1.0">
  <xsl:output method="xml" version="1.0" encoding="UTF-8" indent="no"/>
  <xsl:strip-space elements="marc:collection marc:record marc:datafield"/>
  <xsl:template match="node()|@*">
    <xsl:copy>
      <xsl:apply-templates select="@*|node()"/>
    </xsl:copy>
  </xsl:template>
</xsl:stylesheet>
