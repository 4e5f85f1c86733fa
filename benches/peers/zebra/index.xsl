<?xml version="1.0" encoding="UTF-8"?>
<!-- Zebra DOM extract stylesheet of the peer comparison (benches/peers/run.sh): one record
     per MARCXML record, its id the 001, and one word index "any" (Bib-1 use 1016, what CQL's
     cql.serverChoice maps to) over the fields every peer indexes: titles (245 $a $b $n $p,
     246 $a $b, 240 $a, 130 $a, 740 $a), names (1XX/7XX $a $b $c $d $q), subjects (6XX
     $a $x $y $z $v), publishers (260/264 $b), the ISBN of 020 $a, and the 880s linked to
     any of them. Each subfield is its own z:index element, so words of adjacent subfields
     are not glued together. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:z="http://indexdata.com/zebra-2.0"
    xmlns:marc="http://www.loc.gov/MARC21/slim">
  <xsl:output indent="no" method="xml" encoding="UTF-8"/>
  <xsl:template match="text()"/>
  <xsl:template match="/">
    <xsl:apply-templates select="marc:record|marc:collection/marc:record"/>
  </xsl:template>

  <xsl:template match="marc:record">
    <z:record z:id="{normalize-space(marc:controlfield[@tag='001'])}" z:type="update">
      <xsl:for-each select="marc:datafield">
        <xsl:variable name="tag">
          <xsl:choose>
            <xsl:when test="@tag='880'">
              <xsl:value-of select="substring(marc:subfield[@code='6'], 1, 3)"/>
            </xsl:when>
            <xsl:otherwise><xsl:value-of select="@tag"/></xsl:otherwise>
          </xsl:choose>
        </xsl:variable>
        <xsl:variable name="codes">
          <xsl:choose>
            <xsl:when test="$tag='245'">abnp</xsl:when>
            <xsl:when test="$tag='246'">ab</xsl:when>
            <xsl:when test="$tag='240' or $tag='130' or $tag='740'">a</xsl:when>
            <xsl:when test="$tag='100' or $tag='110' or $tag='111' or $tag='700' or $tag='710' or $tag='711'">abcdq</xsl:when>
            <xsl:when test="$tag='600' or $tag='610' or $tag='611' or $tag='630' or $tag='650' or $tag='651'">axyzv</xsl:when>
            <xsl:when test="$tag='260' or $tag='264'">b</xsl:when>
          </xsl:choose>
        </xsl:variable>
        <xsl:choose>
          <xsl:when test="$tag='020'">
            <xsl:for-each select="marc:subfield[@code='a']">
              <z:index name="any:w"><xsl:value-of select="substring-before(concat(normalize-space(.), ' '), ' ')"/></z:index>
            </xsl:for-each>
          </xsl:when>
          <xsl:when test="string($codes) != ''">
            <xsl:for-each select="marc:subfield[contains($codes, @code)]">
              <z:index name="any:w"><xsl:value-of select="."/></z:index>
            </xsl:for-each>
          </xsl:when>
        </xsl:choose>
      </xsl:for-each>
    </z:record>
  </xsl:template>
</xsl:stylesheet>
