<?xml version="1.0" encoding="UTF-8"?>
<!-- The "brief" retrieval schema of the peer comparison: a hit's 001 and title proper,
     about what Shiori's JSON hit list carries for a result list. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:marc="http://www.loc.gov/MARC21/slim">
  <xsl:output indent="no" method="xml" encoding="UTF-8" omit-xml-declaration="yes"/>
  <xsl:template match="/">
    <xsl:for-each select="marc:record|marc:collection/marc:record">
      <r><id><xsl:value-of select="normalize-space(marc:controlfield[@tag='001'])"/></id><title><xsl:value-of select="marc:datafield[@tag='245']/marc:subfield[@code='a']"/></title></r>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>
